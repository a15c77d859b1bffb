// OAuth clients of the account (admin): each gets a client id and a secret shown once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { CursorSecret } from '../../http/cursor.js'
import { completeIdempotency } from '../../http/idempotency.js'
import { ListQuerystring } from '../../http/list-query.js'
import { NotFound } from '../../http/problem.js'
import { emptyResponse, listResponse, replayHeaders, resourceResponse, responseHeaders, sendCreated } from '../../http/representation.js'
import { answerList } from '../../http/resource.js'
import { apiProblems, IdempotencyHeaders, IdParams } from '../../http/schemas.js'
import { clientLinks, clientsList } from './identity.lists.js'
import { CreatedOAuthClient, CreateOAuthClient, OAuthClient } from './identity.schemas.js'
import { clientsQuery, createClient, revokeClient, toClient } from './keys.repository.js'

const tags = ['oauth clients']

export const oauthClientsRoutes: FastifyPluginAsyncTypebox<{ cursorSecret: CursorSecret }> = async (app, { cursorSecret: secret }) => {
  const { db } = app.database

  app.get(
    '/oauth_clients',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        summary: 'Live OAuth clients of the account, without their secrets',
        querystring: ListQuerystring,
        response: { 200: listResponse(OAuthClient, 'A page of OAuth clients'), ...apiProblems() },
      },
    },
    async (request, reply) =>
      answerList(request, reply, app.database, clientsQuery(db, request.accountId), {
        spec: clientsList,
        secret,
        toResource: toClient,
        linksOf: clientLinks,
      }),
  )

  app.post(
    '/oauth_clients',
    {
      config: { permission: 'admin', idempotent: true },
      schema: {
        tags,
        summary: 'Create an OAuth client (the secret is shown once)',
        body: CreateOAuthClient,
        headers: IdempotencyHeaders,
        response: {
          201: resourceResponse(CreatedOAuthClient, 'Created; the secret is in this body only', { Location: responseHeaders.Location }),
          200: resourceResponse(CreatedOAuthClient, 'Replayed (same Idempotency-Key and payload), secret included', replayHeaders),
          ...apiProblems(409, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const client = await db.transaction().execute(async (trx) => {
        const created = await createClient(trx, request.accountId, request.principal?.userId ?? null, request.body)
        await completeIdempotency(trx, request, { location: clientLinks(created).self, resource: created, links: clientLinks(created) })
        return created
      })
      return sendCreated(request, reply, client, clientLinks(client))
    },
  )

  app.delete(
    '/oauth_clients/:id',
    {
      config: { permission: 'admin', changesCredentials: true },
      schema: {
        tags,
        summary: 'Revoke an OAuth client and its tokens',
        params: IdParams,
        response: { 204: emptyResponse('Revoked'), ...apiProblems(404) },
      },
    },
    async (request, reply) => {
      if (!(await revokeClient(db, request.accountId, request.params.id))) throw new NotFound()
      return reply.code(204).send(null)
    },
  )
}
