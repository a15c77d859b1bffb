// buildApp(config): the table of contents of the product — what is registered, in what order.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { createDatabase, type Database } from './db/database.js'
import { databasePlugin } from './db/plugin.js'
import { availability } from './http/availability.js'
import { contentTypes } from './http/content-types.js'
import { docs } from './http/docs.js'
import { clientErrorHandler, errors } from './http/errors.js'
import { negotiation } from './http/negotiation.js'
import { genReqId, requestContext } from './http/request-context.js'
import { routing } from './http/routing.js'
import { validatorCompiler } from './http/validation.js'
import { healthRoutes } from './modules/health/health.routes.js'

/** The contract's body limit for ordinary endpoints (bulk jobs raise their own). */
const BODY_LIMIT_BYTES = 1024 * 1024

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
  await app.register(errors)
  await app.register(routing)
  await app.register(requestContext)
  await app.register(availability, { maintenance: config.MAINTENANCE_MODE, apiPrefixes: ['/api/', '/oauth/'] })
  await app.register(negotiation)
  await app.register(contentTypes)
  await app.register(databasePlugin, { database: options.database ?? createDatabase(config) })
  await app.register(docs)

  // The product.
  await app.register(healthRoutes)

  return app
}
