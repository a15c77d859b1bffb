// Orchestrates a bench: starts the needed servers, probes, warms up, runs interleaved rounds, aggregates.
import type { BenchConfig } from './config.js'
import { probe, runLoad, runMeasured, warmUp } from './load.js'
import { runAllCleanups, SkipServer, stopRequested } from './resources.js'
import { type RunningServer, startServer, stopServer } from './servers.js'
import { maxOrNull, median, sumCounts } from './stats.js'
import type { RunSample, Scenario, ScenarioResult, ServerSpec, Verdict } from './types.js'

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`)

interface State {
  scenario: Scenario
  runs: RunSample[]
  probe: string | null
  /** Set when the scenario cannot be measured (skipped server, start failure, crash). */
  skip: string | null
  error: string | null
}

/**
 * Selects scenarios whose id contains any filter token, plus the baselines they are compared against.
 * Opt-in scenarios (slow setup) are picked only by a token their id starts with (`--only deep`).
 */
export function selectScenarios(all: readonly Scenario[], only: readonly string[]): Scenario[] {
  if (only.length === 0) return all.filter((s) => !s.optIn)
  const matches = (s: Scenario, t: string) => (s.optIn ? s.id.toLowerCase().startsWith(t) : s.id.toLowerCase().includes(t))
  const picked = new Set(all.filter((s) => only.some((t) => matches(s, t))).map((s) => s.id))
  for (const s of all) if (picked.has(s.id) && s.baseline) picked.add(s.baseline)
  return all.filter((s) => picked.has(s.id))
}

export async function runBench(selected: readonly Scenario[], config: BenchConfig, cwd: string): Promise<ScenarioResult[]> {
  const states: State[] = selected.map((scenario) => ({ scenario, runs: [], probe: null, skip: null, error: null }))
  const specs = new Map<string, ServerSpec>()
  for (const s of selected) specs.set(s.server.id, s.server)
  const servers = new Map<string, RunningServer>()
  const fail = (serverId: string, field: 'skip' | 'error', reason: string) => {
    for (const st of states) if (st.scenario.server.id === serverId && st[field] === null) st[field] = reason
  }
  const active = () => states.filter((st) => st.skip === null && st.error === null)
  const load = { connections: config.connections, durationSec: config.durationSec }

  try {
    for (const spec of specs.values()) {
      const reason = spec.unavailable?.()
      if (reason) {
        log(`skipping server '${spec.id}': ${reason}`)
        fail(spec.id, 'skip', reason)
        continue
      }
      if (stopRequested()) break
      log(`starting server '${spec.id}': ${spec.description}`)
      let stage = 'prepare'
      try {
        const env = (await spec.prepare?.()) ?? {}
        stage = 'start'
        const server = await startServer(spec, cwd, env)
        servers.set(spec.id, server)
        log(`  '${spec.id}' ready on port ${server.port} (pid ${server.pid})`)
        stage = 'setup'
        const t0 = Date.now()
        await spec.afterStart?.(server)
        if (spec.afterStart) log(`  '${spec.id}' set up in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      } catch (err) {
        const msg = err instanceof Error ? (err.stack ?? err.message) : String(err)
        if (err instanceof SkipServer) {
          log(`skipping server '${spec.id}': ${err.message}`)
          fail(spec.id, 'skip', err.message)
        } else {
          log(msg)
          fail(spec.id, 'error', `server failed to ${stage}: ${(err instanceof Error ? err.message : msg).split('\n')[0]}`)
        }
      }
    }

    for (const st of active()) {
      if (stopRequested()) break
      const server = servers.get(st.scenario.server.id) as RunningServer
      // A self-measuring scenario checks its own outcomes; its warm-up is a short run of its own.
      if (!st.scenario.measure) {
        st.probe = await probe(st.scenario, server.port)
        if (st.probe) log(`probe ${st.scenario.id}: ${st.probe}`)
      }
      if (config.warmupSec > 0) {
        log(`warm-up ${st.scenario.id} (${st.scenario.measure ? 'a short run' : `${config.warmupSec}s`})`)
        try {
          await warmUp(st.scenario, server, { ...load, durationSec: config.warmupSec })
        } catch (err) {
          const msg = describeError(err)
          log(msg)
          fail(st.scenario.server.id, 'error', `warm-up failed: ${msg.split('\n')[0]}`)
        }
      }
    }

    // Rounds interleave scenarios so slow drift of a noisy machine hits baseline and product alike.
    for (let round = 1; round <= config.runs; round++) {
      for (const st of active()) {
        if (stopRequested()) break
        const server = servers.get(st.scenario.server.id) as RunningServer
        const measure = st.scenario.measure
        log(`run ${round}/${config.runs} ${st.scenario.id} (${measure ? measure.unit : `${config.durationSec}s`})`)
        try {
          const sample = measure ? await runMeasured(st.scenario, server) : await runLoad(st.scenario, server, load)
          st.runs.push(sample)
          log(`  ${describeSample(sample, measure?.unit)}`)
        } catch (err) {
          const msg = describeError(err)
          log(msg)
          fail(st.scenario.server.id, 'error', msg.split('\n')[0] ?? msg)
        }
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => stopServer(s)))
    await runAllCleanups()
  }
  return aggregate(states, config.connections)
}

/** The error's message, with its cause's (fetch's 'fetch failed' says nothing by itself). */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  return err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message
}

function describeSample(sample: RunSample, unit = 'req/s'): string {
  const rate = `${sample.rps.toFixed(0)} ${unit}`
  const latency = sample.p50 === null || sample.p99 === null ? '' : `, p50 ${sample.p50.toFixed(2)} ms, p99 ${sample.p99.toFixed(2)} ms`
  const m = sample.measured
  const cpu = m?.serverCpuSeconds == null ? '' : `, server CPU ${m.serverCpuSeconds.toFixed(2)} s`
  const measured = m ? ` (${m.items} in ${m.seconds.toFixed(2)} s${cpu})` : ''
  const rss = sample.rssMaxMb === null ? '' : `, RSS ${sample.rssMaxMb.toFixed(0)} MB`
  return `${rate}${measured}${latency}${rss}, unexpected ${sample.unexpected}`
}

const present = (values: readonly (number | null)[]): number[] => values.filter((v): v is number => v !== null)

function aggregate(states: readonly State[], defaultConnections: number): ScenarioResult[] {
  const partial = states.map((st) => {
    const { scenario: sc, runs } = st
    const unexpected = runs.reduce((a, r) => a + r.unexpected, 0)
    return {
      id: sc.id,
      title: sc.title,
      server: sc.server.id,
      expectStatus: sc.expectStatus,
      unit: sc.measure?.unit ?? 'req/s',
      rps: median(runs.map((r) => r.rps)),
      p50: median(present(runs.map((r) => r.p50))),
      p99: median(present(runs.map((r) => r.p99))),
      rssMaxMb: maxOrNull(runs.map((r) => r.rssMaxMb)),
      baseline: sc.baseline ?? null,
      ratio: null as number | null,
      ratioOfMedians: null as number | null,
      target: sc.target ?? null,
      connections: sc.connections ?? defaultConnections,
      p50Ratio: null as number | null,
      p99Ratio: null as number | null,
      p50Factor: sc.p50Factor ?? null,
      p99Factor: sc.p99Factor ?? null,
      rssLimitMb: sc.rssLimitMb ?? null,
      unexpected,
      errors: runs.reduce((a, r) => a + r.errors, 0),
      timeouts: runs.reduce((a, r) => a + r.timeouts, 0),
      statusCounts: sumCounts(runs.map((r) => r.statusCounts)),
      probe: st.probe,
      verdict: '-' as Verdict,
      note: st.skip ?? st.error ?? st.probe,
      runs,
      skip: st.skip,
      error: st.error,
    }
  })
  const byId = new Map(partial.map((r) => [r.id, r]))
  return partial.map(({ skip, error, ...r }) => {
    const base = r.baseline ? byId.get(r.baseline) : undefined
    if (base) {
      r.ratio = pairedRatio(r.runs, base.runs, (run) => run.rps)
      r.ratioOfMedians = r.rps !== null && base.rps ? r.rps / base.rps : null
      r.p50Ratio = pairedRatio(r.runs, base.runs, (run) => run.p50)
      r.p99Ratio = pairedRatio(r.runs, base.runs, (run) => run.p99)
    }
    if (skip) r.verdict = 'SKIP'
    else if (error || r.probe || r.unexpected > 0 || r.rps === null) {
      r.verdict = 'ERROR'
      if (!r.note && r.unexpected > 0) r.note = `${r.unexpected} responses/errors other than ${r.expectStatus}`
    } else {
      const { verdict, misses } = judge(r)
      r.verdict = verdict
      if (misses.length > 0) r.note = misses.join('; ')
    }
    return r
  })
}

/**
 * The scenario's value ÷ its baseline's, per round, and the median of those: a round runs the two one after
 * the other, so a slow spell of the machine (which moves both) cancels out, where the ratio of the two
 * medians can pair a fast round of one with a slow round of the other. Null without a value on either side;
 * the ratio of the medians when the two have not run the same rounds.
 */
function pairedRatio(runs: readonly RunSample[], baseRuns: readonly RunSample[], value: (run: RunSample) => number | null): number | null {
  const ratios: number[] = []
  if (runs.length === baseRuns.length) {
    runs.forEach((run, round) => {
      const own = value(run)
      const base = value(baseRuns[round] as RunSample)
      if (own !== null && base) ratios.push(own / base)
    })
  }
  if (ratios.length === runs.length && ratios.length > 0) return median(ratios)
  const own = median(present(runs.map(value)))
  const base = median(present(baseRuns.map(value)))
  return own !== null && base ? own / base : null
}

/** PASS when every criterion the scenario sets holds (ratio, p50/p99 vs the baseline's, RSS); '-' when it sets none. */
function judge(r: Omit<ScenarioResult, 'verdict' | 'note'>): { verdict: Verdict; misses: string[] } {
  const misses: string[] = []
  let judged = false
  const noBase = `baseline '${r.baseline}' was not measured`
  if (r.target !== null) {
    judged = true
    if (r.ratio === null) misses.push(`no ratio: ${noBase}`)
    else if (r.ratio < r.target) misses.push(`ratio ${r.ratio.toFixed(2)} < ${r.target.toFixed(2)}`)
  }
  if (r.p50Factor !== null) {
    judged = true
    if (r.p50Ratio === null) misses.push(`no p50 ratio: ${noBase}`)
    else if (r.p50Ratio > r.p50Factor) misses.push(`p50 ${r.p50Ratio.toFixed(2)}x the baseline's > ${r.p50Factor}x`)
  }
  if (r.p99Factor !== null) {
    judged = true
    if (r.p99Ratio === null) misses.push(`no p99 ratio: ${noBase}`)
    else if (r.p99Ratio >= r.p99Factor) misses.push(`p99 ${r.p99Ratio.toFixed(2)}x the baseline's >= ${r.p99Factor}x`)
  }
  if (r.rssLimitMb !== null) {
    judged = true
    if (r.rssMaxMb === null) misses.push('RSS not measured')
    else if (r.rssMaxMb >= r.rssLimitMb) misses.push(`RSS ${r.rssMaxMb.toFixed(0)} MB >= ${r.rssLimitMb} MB`)
  }
  if (!judged) return { verdict: '-', misses }
  return { verdict: misses.length === 0 ? 'PASS' : 'MISS', misses }
}
