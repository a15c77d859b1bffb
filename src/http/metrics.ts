// Prometheus metrics at /metrics (prom-client): request counts and latency, process health, fallbacks.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, collectDefaultMetrics, type MetricValueWithName, Registry } from 'prom-client'
import { addRouteHookFor } from './route-hooks.js'

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

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

interface DurationSeries {
  labels: { method: string; route: string; status: number }
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  counts: number[]
  sum: number
}

/**
 * The request-duration histogram, in the Prometheus histogram format prom-client writes. prom-client's own
 * Histogram validates and hashes the label set on every observation, a visible share of a small request;
 * here a series is found by one string and an observation is a bucket increment.
 */
class RequestDurations {
  readonly name = 'fleet_faults_http_request_duration_seconds'
  readonly help = 'Time from request to response, by route pattern, method and status'
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, DurationSeries>()

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`
    let series = this.series.get(key)
    if (!series) {
      series = { labels: { method, route, status }, counts: new Array(DURATION_BUCKETS.length + 1).fill(0), sum: 0 }
      this.series.set(key, series)
    }
    let bucket = 0
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] as number)) bucket++
    series.counts[bucket] = (series.counts[bucket] ?? 0) + 1
    series.sum += seconds
  }

  /** What prom-client's registry reads to write the metric (the shape its own metrics return). */
  async get() {
    const values: MetricValueWithName<string>[] = []
    for (const { labels, counts, sum } of this.series.values()) {
      let cumulative = 0
      DURATION_BUCKETS.forEach((le, index) => {
        cumulative += counts[index] ?? 0
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: cumulative })
      })
      cumulative += counts[DURATION_BUCKETS.length] ?? 0
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: cumulative })
      values.push({ metricName: `${this.name}_sum`, labels, value: sum })
      values.push({ metricName: `${this.name}_count`, labels, value: cumulative })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

async function metricsPlugin(app: FastifyInstance, options: { metrics: Metrics }): Promise<void> {
  const { registry } = options.metrics
  app.decorate('metrics', options.metrics)
  const duration = new RequestDurations()
  // prom-client's registry writes any object with its metrics' shape (name, help, type, get).
  registry.registerMetric(duration as never)
  // Each route's observer knows its pattern (request.routeOptions builds an object on every read); the
  // global hook counts only what no route matched (404, 405, 501, OPTIONS).
  addRouteHookFor(app, 'onResponse', (route) => (request, reply, done) => {
    duration.observe(request.method, route.url, reply.statusCode, reply.elapsedTime / 1000)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) duration.observe(request.method, 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    done()
  })
  app.get('/metrics', { schema: { hide: true }, config: { ownMediaType: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  )
}

export const metrics = fp(metricsPlugin, { name: 'metrics' })
