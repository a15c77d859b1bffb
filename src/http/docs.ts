// The API describes itself: OpenAPI 3.1 from the route schemas, an offline docs page, problem type pages.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { NotFound, type ProblemType, problemTypes } from './problem.js'

const pages = new Map<string, ProblemType>(Object.values(problemTypes).map((type) => [type.slug, type]))

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
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { deepLinking: true, validatorUrl: null } })

  const hidden = { hide: true }
  app.get('/openapi.json', { schema: hidden }, async () => app.swagger())
  app.get('/', { schema: hidden, config: { html: true } }, async (_request, reply) => reply.redirect('/docs', 302))

  app.get(
    '/problems/:slug',
    { schema: { ...hidden, params: Type.Object({ slug: Type.String({ maxLength: 64 }) }) }, config: { html: true } },
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
