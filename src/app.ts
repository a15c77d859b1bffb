// buildApp(config): the table of contents of the product — what is registered, in what order.

import { once } from 'node:events'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { createDatabase, type Database } from './db/database.js'
import { databasePlugin } from './db/plugin.js'
import { createRedis } from './db/redis.js'
import { serverSecret } from './db/secrets.js'
import { auth } from './http/auth.js'
import { availability } from './http/availability.js'
import { contentTypes } from './http/content-types.js'
import { docs } from './http/docs.js'
import { clientErrorHandler, errors } from './http/errors.js'
import { idempotency } from './http/idempotency.js'
import { createCounter, type SharedStore } from './http/limiter.js'
import { createMetrics, metrics } from './http/metrics.js'
import { negotiation } from './http/negotiation.js'
import { createPrincipalCache } from './http/principal-cache.js'
import { genReqId, requestContext } from './http/request-context.js'
import { routing } from './http/routing.js'
import { createSealer } from './http/sealing.js'
import { strictHandling } from './http/strict-handling.js'
import { validatorCompiler } from './http/validation.js'
import { bulkRoutes } from './modules/bulk/bulk.routes.js'
import { faultRulesRoutes } from './modules/fault-rules/fault-rules.routes.js'
import { faultsRoutes } from './modules/faults/faults.routes.js'
import { healthRoutes } from './modules/health/health.routes.js'
import { apiKeysRoutes } from './modules/identity/api-keys.routes.js'
import { identityCredentials } from './modules/identity/authenticate.js'
import { oauthClientsRoutes } from './modules/identity/oauth-clients.routes.js'
import { tokenRoutes } from './modules/identity/token.routes.js'
import { createTokenService, loadSigningSecret } from './modules/identity/tokens.js'
import { usersRoutes } from './modules/identity/users.routes.js'
import { vehiclesRoutes } from './modules/vehicles/vehicles.routes.js'

/** The contract's body limit for ordinary endpoints (bulk jobs raise their own). */
const BODY_LIMIT_BYTES = 1024 * 1024
/** Failed authentications are counted per client address over a minute (AUTH_FAILURE_LIMIT a window). */
const AUTH_FAILURE_WINDOW_SECONDS = 60
/** The database notice channel on which replicas say that credentials changed. */
const CREDENTIALS_CHANNEL = 'fleet_faults_credentials'
/** How long start-up waits for Redis before serving with in-process counters. */
const REDIS_READY_WAIT_MS = 2000

function quotaOf(prefix: string, limit: number, windowSeconds: number, shared: SharedStore | undefined) {
  return { counter: createCounter({ prefix, limit, windowSeconds, shared }), limit, windowSeconds }
}

/** Redis for shared counters, closed with the app; fallbacks are logged at most once a minute. */
async function sharedStore(app: FastifyInstance, url: string, fallbacks: { inc(): void }): Promise<SharedStore> {
  const redis = createRedis(url)
  redis.on('error', () => {}) // connection errors surface as fallbacks below
  // Start counting in Redis when it answers within a moment; if it does not, serve anyway (fail open).
  const ready = once(redis, 'ready').catch(() => {})
  await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, REDIS_READY_WAIT_MS).unref())])
  let lastWarning = 0
  app.addHook('onClose', async () => {
    redis.disconnect()
  })
  return {
    redis,
    onFallback() {
      fallbacks.inc()
      if (Date.now() - lastWarning > 60_000) {
        lastWarning = Date.now()
        app.log.warn('Redis does not answer: rate limits are counted in this process until it does')
      }
    },
  }
}

export interface BuildOptions {
  /** An already-open (and migrated) database; by default one is opened from config. */
  database?: Database
}

export async function buildApp(config: Readonly<Config>, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.LOG_LEVEL },
    genReqId,
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: false, // availability answers draining requests with a problem instead
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)

  // The response contract, domain-free (src/http).
  const appMetrics = createMetrics()
  await app.register(metrics, { metrics: appMetrics })
  await app.register(errors)
  await app.register(routing)
  await app.register(requestContext)
  await app.register(availability, { maintenance: config.MAINTENANCE_MODE, apiPrefixes: ['/api/', '/oauth/'] })
  await app.register(contentTypes)
  await app.register(strictHandling)
  const database = options.database ?? createDatabase(config)
  await app.register(databasePlugin, { database })
  await app.register(docs)

  // Identity: who is calling (API key + Account-Token, or an OAuth bearer token) and what they may do.
  const tokens = createTokenService(await loadSigningSecret(database.db, config.TOKEN_SIGNING_SECRET), config.TOKEN_TTL_SECONDS)
  // Counters live in Redis when replicas must share them; a Redis outage fails open (logged, counted).
  const shared = config.REDIS_URL ? await sharedStore(app, config.REDIS_URL, appMetrics.rateLimitStoreFallbacks) : undefined
  const failures = quotaOf(`${config.REDIS_KEY_PREFIX}auth-failures`, config.AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_SECONDS, shared)
  const quota = quotaOf(`${config.REDIS_KEY_PREFIX}rate-limit`, config.RATE_LIMIT_QUOTA, config.RATE_LIMIT_WINDOW_SECONDS, shared)
  // Checked credentials are remembered briefly; a change to them on any replica empties every cache.
  const cache = createPrincipalCache(config.CREDENTIALS_CACHE_SECONDS)
  await database.notices.listen(CREDENTIALS_CHANNEL, () => cache.invalidate())
  const announceChange = () => database.notices.notify(CREDENTIALS_CHANNEL)
  await app.register(auth, { credentials: identityCredentials(database.db, tokens), failures, quota, cache, announceChange })
  // After auth, so that a 406 to an authenticated caller still carries its rate-limit headers.
  await app.register(negotiation)
  await app.register(idempotency, {
    sealer: createSealer(await serverSecret(database.db, 'idempotency_sealing_secret')),
    ttlHours: config.IDEMPOTENCY_TTL_HOURS,
  })

  // The product. Cursors are signed with a secret every replica shares, so any replica continues a list.
  const cursorSecret = await serverSecret(database.db, 'cursor_signing_secret')
  await app.register(healthRoutes)
  await app.register(tokenRoutes, { tokens, failures })
  await app.register(
    async (api) => {
      await api.register(usersRoutes, { cursorSecret })
      await api.register(apiKeysRoutes, { cursorSecret })
      await api.register(oauthClientsRoutes, { cursorSecret })
      await api.register(vehiclesRoutes, { cursorSecret })
      await api.register(faultRulesRoutes, { cursorSecret })
      await api.register(faultsRoutes, { cursorSecret })
      await api.register(bulkRoutes, {
        cursorSecret,
        maxRecords: config.BULK_MAX_RECORDS,
        batchSize: config.BULK_BATCH_SIZE,
        retentionDays: config.BULK_RETENTION_DAYS,
      })
    },
    { prefix: '/api/v1' },
  )

  return app
}
