// OAuth clients of the account (admin): each gets a client id and a secret shown once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NotFound } from '../../http/problem.js'
import { apiProblems, IdParams, NoContent } from '../../http/schemas.js'
import { CreatedOAuthClient, CreateOAuthClient } from './identity.schemas.js'
import { createClient, revokeClient } from './keys.repository.js'

const tags = ['oauth clients']

export const oauthClientsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.database

  app.post(
    '/oauth_clients',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        summary: 'Create an OAuth client (the secret is shown once)',
        body: CreateOAuthClient,
        response: { 201: CreatedOAuthClient, ...apiProblems(415, 422) },
      },
    },
    async (request, reply) => {
      const client = await createClient(db, request.accountId, request.principal?.userId ?? null, request.body)
      return reply.code(201).header('Location', `/api/v1/oauth_clients/${client.id}`).send(client)
    },
  )

  app.delete(
    '/oauth_clients/:id',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        summary: 'Revoke an OAuth client and its tokens',
        params: IdParams,
        response: { 204: NoContent, ...apiProblems(404) },
      },
    },
    async (request, reply) => {
      if (!(await revokeClient(db, request.accountId, request.params.id))) throw new NotFound()
      return reply.code(204).send(null)
    },
  )
}
