// The API describes itself: OpenAPI 3.1 from the route schemas, an offline docs page, problem type pages.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { isScope, type Permission, SCOPES } from './access.js'
import { NotFound, type ProblemType, problemTypes } from './problem.js'
import { withRateLimitHeaders } from './schemas.js'

const pages = new Map<string, ProblemType>(Object.values(problemTypes).map((type) => [type.slug, type]))

/** Which credentials a route takes, from the permission it declares. */
function securityOf(permission: Permission) {
  if (permission === 'user') return [{ apiKey: [] }]
  const key = { apiKey: [], accountToken: [] }
  return isScope(permission) ? [key, { oauth2: [permission] }] : [key]
}

/** The OpenAPI operation of an authenticated route: its security requirement and rate-limit headers. */
function authenticatedOperation(schema: Record<string, unknown>, permission: Permission) {
  return { ...schema, security: securityOf(permission), response: withRateLimitHeaders((schema.response ?? {}) as Record<string, unknown>) }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

async function docsPlugin(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'fleet-faults',
        version: '1',
        description:
          'Fleetio-compatible Faults API: faults, fault rules, vehicles and bulk jobs. Errors are application/problem+json (RFC 9457).',
      },
      tags: [{ name: 'health', description: 'Liveness and readiness' }],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Token <api key>` (or `Token token="<api key>"`)' },
          accountToken: {
            type: 'apiKey',
            in: 'header',
            name: 'Account-Token',
            description: "Picks which of the key user's accounts the call acts in",
          },
          clientBasic: {
            type: 'http',
            scheme: 'basic',
            description: 'OAuth client id and secret, for POST /oauth/token (or as form fields)',
          },
          oauth2: {
            type: 'oauth2',
            description:
              'Client credentials grant. Access tokens are JWTs following RFC8725: HS256 only (the algorithm is pinned, never read from the token), issuer, audience and expiry checked, short-lived (TOKEN_TTL_SECONDS).',
            flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: Object.fromEntries(SCOPES.map((scope) => [scope, scope])) } },
          },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const permission = route.config?.permission
      if (!permission || !schema) return { schema, url }
      return { schema: authenticatedOperation(schema as Record<string, unknown>, permission) as typeof schema, url }
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { deepLinking: true, validatorUrl: null } })

  const hidden = { hide: true }
  app.get('/openapi.json', { schema: hidden }, async () => app.swagger())
  app.get('/', { schema: hidden, config: { ownMediaType: true } }, async (_request, reply) => reply.redirect('/docs', 302))

  app.get(
    '/problems/:slug',
    { schema: { ...hidden, params: Type.Object({ slug: Type.String({ maxLength: 64 }) }) }, config: { ownMediaType: true } },
    async (request, reply) => {
      const type = pages.get(request.params.slug)
      if (!type) throw new NotFound('No such problem type.')
      const title = escapeHtml(type.title)
      return reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
            `<body><h1>${title}</h1><p>HTTP status ${type.status}. Problem type <code>/problems/${type.slug}</code>.</p>` +
            `<p>${escapeHtml(type.description)}</p><p><a href="/docs">API documentation</a></p></body></html>`,
        )
    },
  )
}

export const docs = fp(docsPlugin, { name: 'docs' })
