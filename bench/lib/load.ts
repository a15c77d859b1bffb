// Drives one scenario with autocannon (programmatic API), or its own measure, and probes its response once.
/// <reference path="../types/autocannon.d.ts" />
import http from 'node:http'
import autocannon from 'autocannon'
import { FineLatency } from './latency.js'
import { cpuSeconds, HOST, type RunningServer, sampleRss } from './servers.js'
import type { MeasuredRun, RunSample, Scenario, ScenarioRequest } from './types.js'

export interface LoadOptions {
  connections: number
  durationSec: number
}

/** The scenario's request; a function is resolved here, after the servers' setup has filled in credentials and ids. */
export function requestOf(scenario: Scenario): ScenarioRequest {
  return typeof scenario.request === 'function' ? scenario.request() : scenario.request
}

function autocannonOptions(scenario: Scenario, port: number, opts: LoadOptions): autocannon.Options {
  const request = requestOf(scenario)
  const options: autocannon.Options = {
    url: `http://${HOST}:${port}${request.path}`,
    connections: scenario.connections ?? opts.connections,
    duration: opts.durationSec,
    method: request.method ?? 'GET',
    timeout: 10,
  }
  if (request.headers) options.headers = { ...request.headers }
  if (request.body !== undefined) options.body = request.body
  if (request.requests) options.requests = request.requests
  if (request.setupClient) options.setupClient = request.setupClient
  return options
}

/** p99 latency; falls back to p97_5 should an autocannon version not report p99. */
function p99Of(latency: autocannon.Histogram): number {
  return latency.p99 ?? latency.p97_5 ?? latency.max
}

export async function runLoad(scenario: Scenario, server: RunningServer, opts: LoadOptions): Promise<RunSample> {
  const rss = sampleRss(server.pid)
  const fine = new FineLatency()
  let result: autocannon.Result
  let rssMaxMb: number | null
  try {
    const instance = autocannon(autocannonOptions(scenario, server.port, opts))
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => fine.record(ms))
    result = await instance
  } finally {
    rssMaxMb = rss.stop()
  }
  if (server.exited()) {
    throw new Error(`server '${server.spec.id}' died during '${scenario.id}'\n${server.logTail()}`)
  }
  const statusCounts: Record<string, number> = {}
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCounts[code] = count
  const responses = Object.values(statusCounts).reduce((a, b) => a + b, 0)
  const expected = statusCounts[String(scenario.expectStatus)] ?? 0
  return {
    rps: result.requests.average,
    p50: fine.percentile(50) ?? result.latency.p50,
    p99: fine.percentile(99) ?? p99Of(result.latency),
    autocannonP50: result.latency.p50,
    autocannonP99: p99Of(result.latency),
    requests: responses,
    statusCounts,
    unexpected: responses - expected + result.errors,
    errors: result.errors,
    timeouts: result.timeouts,
    rssMaxMb,
  }
}

/** One run of a self-measuring scenario (Scenario.measure), with the server's RSS sampled throughout. */
export async function runMeasured(scenario: Scenario, server: RunningServer): Promise<RunSample> {
  const measure = scenario.measure
  if (!measure) throw new Error(`scenario '${scenario.id}' measures nothing itself`)
  const rss = sampleRss(server.pid)
  const cpuBefore = cpuSeconds(server.pid)
  let run: MeasuredRun
  let rssMaxMb: number | null
  try {
    run = await measure.run(server, { warmUp: false })
  } finally {
    rssMaxMb = rss.stop()
  }
  const cpuAfter = cpuSeconds(server.pid)
  if (server.exited()) {
    throw new Error(`server '${server.spec.id}' died during '${scenario.id}'\n${server.logTail()}`)
  }
  return {
    rps: run.items / run.seconds,
    p50: null,
    p99: null,
    autocannonP50: null,
    autocannonP99: null,
    measured: {
      items: run.items,
      seconds: run.seconds,
      serverCpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
    },
    requests: Object.values(run.statusCounts).reduce((a, b) => a + b, 0),
    statusCounts: run.statusCounts,
    unexpected: run.unexpected,
    errors: 0,
    timeouts: 0,
    rssMaxMb,
  }
}

/** Discarded short run to warm the JIT / connection paths (a self-measuring scenario's own short run). */
export async function warmUp(scenario: Scenario, server: RunningServer, opts: LoadOptions): Promise<void> {
  if (scenario.measure) {
    await scenario.measure.run(server, { warmUp: true })
    return
  }
  if (opts.durationSec <= 0) return
  await autocannon(autocannonOptions(scenario, server.port, opts))
}

/**
 * Sends the scenario's request once and checks status and content-type.
 * Returns null when it matches, otherwise a short description of the mismatch.
 */
export function probe(scenario: Scenario, port: number): Promise<string | null> {
  const request = requestOf(scenario)
  const first = request.requests?.[0]
  const method = first?.method ?? request.method ?? 'GET'
  const path = first?.path ?? request.path
  const headers = { ...request.headers, ...first?.headers }
  const body = first?.body ?? request.body
  return new Promise((resolve) => {
    const req = http.request({ host: HOST, port, path, method, headers, agent: false, timeout: 5_000 }, (res) => {
      res.resume()
      res.on('end', () => {
        const problems: string[] = []
        if (res.statusCode !== scenario.expectStatus) {
          problems.push(`status ${res.statusCode} (expected ${scenario.expectStatus})`)
        }
        const ct = res.headers['content-type'] ?? ''
        if (scenario.expectContentType && !ct.startsWith(scenario.expectContentType)) {
          problems.push(`content-type '${ct}' (expected ${scenario.expectContentType})`)
        }
        resolve(problems.length > 0 ? problems.join(', ') : null)
      })
    })
    req.on('timeout', () => req.destroy(new Error('probe timeout')))
    req.on('error', (err) => resolve(`probe failed: ${err.message}`))
    if (body !== undefined) req.write(body)
    req.end()
  })
}
