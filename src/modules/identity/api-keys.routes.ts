// API keys: a member makes and revokes their own; an admin may for any member of the account.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { applyFilters } from '../../http/filters.js'
import { completeIdempotency } from '../../http/idempotency.js'
import { ListQuerystring, parseListQuery } from '../../http/list-query.js'
import { paginate } from '../../http/pagination.js'
import { NotFound, Problem, problemTypes } from '../../http/problem.js'
import {
  emptyResponse,
  listResponse,
  replayHeaders,
  resourceResponse,
  responseHeaders,
  sendCreated,
  sendList,
} from '../../http/representation.js'
import { apiProblems, IdempotencyHeaders, IdParams } from '../../http/schemas.js'
import { cursorSecret, keyLinks, keysList } from './identity.lists.js'
import { ApiKey, CreateApiKey, CreatedApiKey } from './identity.schemas.js'
import { createKey, keysQuery, revokeKey, toApiKey } from './keys.repository.js'
import { findMember } from './members.repository.js'

const tags = ['api keys']

export const apiKeysRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.database
  const secret = await cursorSecret(db)

  app.get(
    '/api_keys',
    {
      config: { permission: 'member' },
      schema: {
        tags,
        summary: "Live API keys, without their secrets: the caller's own; an admin sees every member's",
        querystring: ListQuerystring,
        response: { 200: listResponse(ApiKey, 'A page of API keys'), ...apiProblems() },
      },
    },
    async (request, reply) => {
      const viewer = { userId: request.principal?.userId ?? 0, ofAllMembers: request.principal?.role === 'admin' }
      const scope = `${request.accountId}:${viewer.ofAllMembers ? 'all' : viewer.userId}`
      const list = parseListQuery(request, keysList, { secret, scope })
      const page = await paginate(db, applyFilters(keysQuery(db, request.accountId, viewer), list.filters), list)
      return sendList(request, reply, { ...page, records: page.records.map(toApiKey) }, keyLinks)
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
      if (owner !== caller) {
        if (request.principal?.role !== 'admin')
          throw new Problem(problemTypes.forbidden, 'Only an admin may create keys for other members.')
        if (!(await findMember(db, request.accountId, owner))) throw new NotFound('No member of this account has that user_id.')
      }
      const key = await db.transaction().execute(async (trx) => {
        const created = await createKey(trx, owner, request.body.name ?? null, request.apiVersion)
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
        summary: 'Revoke an API key: it fails at once',
        params: IdParams,
        response: { 204: emptyResponse('Revoked'), ...apiProblems(404) },
      },
    },
    async (request, reply) => {
      const viewer = { userId: request.principal?.userId ?? 0, ofAllMembers: request.principal?.role === 'admin' }
      const key = await keysQuery(db, request.accountId, viewer).where('api_keys.id', '=', request.params.id).executeTakeFirst()
      if (!key) throw new NotFound()
      await revokeKey(db, key.id)
      return reply.code(204).send(null)
    },
  )
}
