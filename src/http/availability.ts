// 503s: maintenance mode for the API, and load-shedding while the process drains on shutdown.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Problem, problemTypes } from './problem.js'

/** Seed 003: clients wait at least two minutes after a maintenance 503. */
const MAINTENANCE_RETRY_AFTER_SECONDS = 120
/** A draining replica is gone in seconds; a retry lands on another one or on its successor. */
const DRAINING_RETRY_AFTER_SECONDS = 5

export interface AvailabilityOptions {
  maintenance: boolean
  /** Path prefixes that maintenance mode closes; health and docs stay open. */
  apiPrefixes: readonly string[]
}

const shuttingDown = new Problem(problemTypes.unavailable, 'The server is shutting down. Retry on another connection.', {
  headers: { 'Retry-After': String(DRAINING_RETRY_AFTER_SECONDS) },
})
const underMaintenance = new Problem(problemTypes.maintenance, 'The API is down for maintenance.', {
  headers: { 'Retry-After': String(MAINTENANCE_RETRY_AFTER_SECONDS) },
})

async function availabilityPlugin(app: FastifyInstance, options: AvailabilityOptions): Promise<void> {
  let draining = false
  app.addHook('preClose', async () => {
    draining = true
  })
  // A connection whose last in-flight response just finished is idle now: close it, or the
  // server would wait for the keep-alive timeout before it can exit.
  app.addHook('onResponse', (_request, _reply, done) => {
    if (draining) setImmediate(() => app.server.closeIdleConnections())
    done()
  })
  // Callback style and problems built once: this runs on every request and almost never answers.
  app.addHook('onRequest', (request, reply, done) => {
    if (draining) {
      reply.header('Connection', 'close')
      return done(shuttingDown)
    }
    if (options.maintenance && options.apiPrefixes.some((prefix) => request.url.startsWith(prefix))) return done(underMaintenance)
    done()
  })
}

export const availability = fp(availabilityPlugin, { name: 'availability' })
