// API keys: a member makes, sees and revokes their own; an admin also makes keys for members, bound to the
// account (they act nowhere else), and sees and revokes the keys bound to it, never a member's own keys.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { CursorSecret } from '../../http/cursor.js'
import { completeIdempotency } from '../../http/idempotency.js'
import { ListQuerystring } from '../../http/list-query.js'
import { NotFound, Problem, problemTypes } from '../../http/problem.js'
import { emptyResponse, listResponse, replayHeaders, resourceResponse, responseHeaders, sendCreated } from '../../http/representation.js'
import { answerList } from '../../http/resource.js'
import { apiProblems, IdempotencyHeaders, IdParams } from '../../http/schemas.js'
import { keyLinks, keysList } from './identity.lists.js'
import { ApiKey, CreateApiKey, CreatedApiKey } from './identity.schemas.js'
import { createKey, type KeyViewer, keysQuery, revokeKey, toApiKey } from './keys.repository.js'
import { findMember } from './members.repository.js'

const tags = ['api keys']

function viewerOf(request: FastifyRequest): KeyViewer {
  const principal = request.principal
  return { userId: principal?.userId ?? 0, admin: principal?.role === 'admin', bound: principal?.boundAccountId !== null }
}

export const apiKeysRoutes: FastifyPluginAsyncTypebox<{ cursorSecret: CursorSecret }> = async (app, { cursorSecret: secret }) => {
  const { db } = app.database

  app.get(
    '/api_keys',
    {
      config: { permission: 'member' },
      schema: {
        tags,
        summary: "Live API keys, without their secrets: the caller's own; an admin also those bound to the account",
        querystring: ListQuerystring,
        response: { 200: listResponse(ApiKey, 'A page of API keys'), ...apiProblems() },
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      return answerList(request, reply, app.database, keysQuery(db, request.accountId, viewer), {
        spec: keysList,
        secret,
        toResource: toApiKey,
        linksOf: keyLinks,
        scope: () => `${request.accountId}:${viewer.userId}:${viewer.admin ? 'admin' : 'member'}:${viewer.bound ? 'bound' : 'own'}`,
      })
    },
  )

  app.post(
    '/api_keys',
    {
      config: { permission: 'member', idempotent: true },
      schema: {
        tags,
        summary: 'Create an API key (the secret is shown once)',
        body: CreateApiKey,
        headers: IdempotencyHeaders,
        response: {
          201: resourceResponse(CreatedApiKey, 'Created; the secret is in this body only', { Location: responseHeaders.Location }),
          200: resourceResponse(CreatedApiKey, 'Replayed (same Idempotency-Key and payload), secret included', replayHeaders),
          ...apiProblems(409, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const caller = request.principal?.userId ?? 0
      const owner = request.body.user_id ?? caller
      // Bound to this account unless the user makes it for themself with a key of their own: a key made
      // for someone else (or with such a key) must not act in that someone's other accounts.
      const accountId = owner === caller && request.principal?.boundAccountId === null ? null : request.accountId
      if (owner !== caller) {
        if (request.principal?.role !== 'admin')
          throw new Problem(problemTypes.forbidden, 'Only an admin may create keys for other members.')
        if (!(await findMember(db, request.accountId, owner))) throw new NotFound('No member of this account has that user_id.')
      }
      const key = await db.transaction().execute(async (trx) => {
        const created = await createKey(trx, { userId: owner, accountId }, request.body.name ?? null, request.apiVersion)
        await completeIdempotency(trx, request, { location: keyLinks(created).self, resource: created, links: keyLinks(created) })
        return created
      })
      return sendCreated(request, reply, key, keyLinks(key))
    },
  )

  app.delete(
    '/api_keys/:id',
    {
      config: { permission: 'member', changesCredentials: true },
      schema: {
        tags,
        summary: "Revoke an API key: it fails at once (the caller's own, or, for an admin, one bound to the account)",
        params: IdParams,
        response: { 204: emptyResponse('Revoked'), ...apiProblems(404) },
      },
    },
    async (request, reply) => {
      const key = await keysQuery(db, request.accountId, viewerOf(request)).where('api_keys.id', '=', request.params.id).executeTakeFirst()
      if (!key) throw new NotFound()
      await revokeKey(db, key.id)
      return reply.code(204).send(null)
    },
  )
}
