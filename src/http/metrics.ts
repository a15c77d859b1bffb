// Prometheus metrics at /metrics (prom-client): request counts and latency, process health, fallbacks.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

export interface Metrics {
  registry: Registry
  /** Rate-limit counting fell back to this process because the shared store (Redis) failed. */
  rateLimitStoreFallbacks: Counter
}

export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'fleet_faults_' })
  return {
    registry,
    rateLimitStoreFallbacks: new Counter({
      name: 'fleet_faults_rate_limit_store_fallbacks_total',
      help: 'Rate-limit checks counted in process memory because the shared store (Redis) did not answer',
      registers: [registry],
    }),
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

async function metricsPlugin(app: FastifyInstance, options: { metrics: Metrics }): Promise<void> {
  const { registry } = options.metrics
  app.decorate('metrics', options.metrics)
  const duration = new Histogram({
    name: 'fleet_faults_http_request_duration_seconds',
    help: 'Time from request to response, by route pattern, method and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  // One child per label set, found by a plain string: prom-client would hash the label object per request.
  const series = new Map<string, { observe(seconds: number): void }>()
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const name = `${request.method} ${reply.statusCode} ${route}`
    let child = series.get(name)
    if (!child) {
      child = duration.labels({ method: request.method, route, status: reply.statusCode })
      series.set(name, child)
    }
    child.observe(reply.elapsedTime / 1000)
    done()
  })
  app.get('/metrics', { schema: { hide: true }, config: { ownMediaType: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  )
}

export const metrics = fp(metricsPlugin, { name: 'metrics' })
