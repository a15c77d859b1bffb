// Content negotiation: plain JSON by default, HAL on request, 406 when Accept allows neither.
import accepts from '@fastify/accepts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Problem } from './problem.js'
import { addRouteHook } from './route-hooks.js'

export const JSON_TYPE = 'application/json'
export const HAL_TYPE = 'application/hal+json'
const offered = [JSON_TYPE, HAL_TYPE]
const notAcceptable = new Problem(406, `Accept allows neither ${JSON_TYPE} nor ${HAL_TYPE}.`)

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route with a media type of its own (HTML pages, Prometheus text) opts out of JSON negotiation. */
    ownMediaType?: boolean
  }
  interface FastifyRequest {
    /** True when the client prefers application/hal+json. */
    hal: boolean
  }
}

async function negotiationPlugin(app: FastifyInstance): Promise<void> {
  await app.register(accepts)
  app.decorateRequest('hal', false)
  // On the routes that answer JSON (not 404s, nor routes with a media type of their own).
  addRouteHook(app, 'onRequest', negotiate, (route) => route.config?.ownMediaType !== true)
  function negotiate(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) {
    reply.header('Vary', 'Accept')
    const accept = request.headers.accept
    if (accept === undefined || accept === '*/*' || accept === JSON_TYPE) return done()
    const chosen = request.accepts().type(offered)
    if (chosen === false) return done(notAcceptable)
    request.hal = chosen === HAL_TYPE
    done()
  }
}

export const negotiation = fp(negotiationPlugin, { name: 'negotiation' })
