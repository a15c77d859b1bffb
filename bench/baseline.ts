// Bare Fastify 5 reference server for the bench (no plugins, logger off); routes come from a registry below.
import Fastify, { type RouteOptions } from 'fastify'

const itemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['vehicleId', 'code', 'title', 'description', 'severity', 'odometerKm', 'reportedBy', 'reportedAt'],
  properties: {
    vehicleId: { type: 'integer', minimum: 1 },
    code: { type: 'string', minLength: 1, maxLength: 16 },
    title: { type: 'string', minLength: 1, maxLength: 120 },
    description: { type: 'string', maxLength: 2000 },
    severity: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] },
    odometerKm: { type: 'integer', minimum: 0 },
    reportedBy: { type: 'string', minLength: 1, maxLength: 64 },
    reportedAt: { type: 'string', format: 'date-time' },
  },
} as const

const createdSchema = {
  type: 'object',
  required: ['id', ...itemSchema.required],
  properties: { id: { type: 'integer' }, ...itemSchema.properties },
} as const

let nextId = 1

/** Route registry: add a baseline counterpart for a new product scenario by appending here. */
export const routes: RouteOptions[] = [
  {
    method: 'GET',
    url: '/small',
    schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
    handler: async () => ({ status: 'ok' }),
  },
  {
    method: 'POST',
    url: '/items',
    schema: { body: itemSchema, response: { 201: createdSchema } },
    handler: async (request, reply) => {
      const id = nextId++
      reply.code(201).header('location', `/items/${id}`)
      return { id, ...(request.body as Record<string, unknown>) }
    },
  },
]

async function main(): Promise<void> {
  const app = Fastify({ logger: false })
  for (const route of routes) app.route(route)
  const port = Number(process.env.PORT ?? 3000)
  const host = process.env.HOST ?? '127.0.0.1'
  await app.listen({ port, host })
  const shutdown = () => {
    void app.close().finally(() => process.exit(0))
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
