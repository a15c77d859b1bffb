// Headers every response carries: X-Request-Id (echoed when sane), nosniff, X-Api-Version.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
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
  }
}

async function requestContextPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('apiVersion', CURRENT_API_VERSION)
  // Callback style: no promise per request for work that never waits. X-Api-Version says the current
  // version until authentication picks the caller's (useApiVersion).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id)
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('X-Api-Version', CURRENT_API_VERSION)
    done()
  })
}

/** The API version this request is answered in, and says it is (X-Api-Version). */
export function useApiVersion(request: FastifyRequest, reply: FastifyReply, version: string): void {
  request.apiVersion = version
  reply.header('X-Api-Version', version)
}

export const requestContext = fp(requestContextPlugin, { name: 'request-context' })
