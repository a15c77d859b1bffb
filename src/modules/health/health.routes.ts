// Liveness (/healthz: the process answers) and readiness (/readyz: the database answers too).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Problem, problemTypes } from '../../http/problem.js'
import { problemResponses } from '../../http/schemas.js'

/** A load balancer re-probes quickly; five seconds keeps a recovered replica out only briefly. */
const READY_RETRY_AFTER_SECONDS = 5

const Health = Type.Object({ status: Type.Literal('ok') })

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is running',
        response: { 200: Health, ...problemResponses(406, 500, 503) },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database answers',
        response: { 200: Health, ...problemResponses(406, 500, 503) },
      },
    },
    async () => {
      if (await app.database.ping()) return { status: 'ok' as const }
      throw new Problem(problemTypes.unavailable, 'The database does not answer.', {
        headers: { 'Retry-After': String(READY_RETRY_AFTER_SECONDS) },
      })
    },
  )
}
