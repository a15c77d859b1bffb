// Headers every response carries: X-Request-Id (echoed when sane), nosniff, X-Api-Version.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CURRENT_API_VERSION } from './api-version.js'

/** A caller's id is echoed only when it is a plain token: no header injection, no log forging. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function genReqId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id']
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API version this request is answered in (X-Api-Version, else the key's, else current). */
    apiVersion: string
    /** The matched route's config, read once (see routeConfig). */
    routeConfigOnce: FastifyContextConfig | null
  }
}

/**
 * The matched route's config. Fastify's `request.routeOptions` builds a new object on every read, and
 * several hooks of every request need the config, so it is read once per request.
 */
export function routeConfig(request: FastifyRequest): FastifyContextConfig {
  request.routeConfigOnce ??= request.routeOptions.config
  return request.routeConfigOnce
}

async function requestContextPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('apiVersion', CURRENT_API_VERSION)
  app.decorateRequest('routeConfigOnce', null)
  // Callback-style hooks: no promise per request for work that never waits.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id)
    reply.header('X-Content-Type-Options', 'nosniff')
    done()
  })
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('X-Api-Version', request.apiVersion)
    done(null, payload)
  })
}

export const requestContext = fp(requestContextPlugin, { name: 'request-context' })
