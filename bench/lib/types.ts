// Shared types of the bench harness: server specs, scenarios and measured results.
/// <reference path="../types/autocannon.d.ts" />
import type autocannon from 'autocannon'

/** A server process the driver starts (once per bench invocation) and drives traffic at. */
export interface ServerSpec {
  /** Unique key, e.g. 'baseline', 'product', 'product-pg'. */
  id: string
  description: string
  /** Arguments after `process.execPath`, e.g. ['--import', 'tsx', 'bench/baseline.ts']; cwd is the repo root. */
  args: readonly string[]
  /** Extra env on top of process.env; the driver always sets PORT (a free port) and HOST=127.0.0.1. */
  env?: Readonly<Record<string, string>>
  /** Path polled until the server answers any HTTP status (default '/'). */
  readyPath?: string
  /** Return a reason to skip this server (and its scenarios), e.g. a missing file or env var. */
  unavailable?: () => string | undefined
  /**
   * Runs before the process starts (e.g. create a fresh database and an account); the env it returns is
   * added to the child's. Throw a SkipServer (lib/resources.ts) to SKIP the server's scenarios instead of ERROR.
   * Register undo steps (drop the database) with onCleanup (lib/resources.ts): they run at the end, also on Ctrl-C.
   */
  prepare?: () => Promise<Record<string, string> | undefined>
  /** Runs once the server answers and before any probe (e.g. create vehicles, fault rules, faults through the API). */
  afterStart?: (server: { port: number; pid: number }) => Promise<void>
  /** Longer SIGTERM grace (ms) before SIGKILL, e.g. while a CPU profile is written. Default 3000. */
  stopGraceMs?: number
}

/** One HTTP request shape; `requests` / `setupClient` are passed through to autocannon for dynamic traffic. */
export interface ScenarioRequest {
  method?: autocannon.HttpMethod
  path: string
  headers?: Readonly<Record<string, string>>
  body?: string
  /** autocannon request sequence (each entry may override method/path/body, or use setupRequest). */
  requests?: autocannon.Request[]
  /** autocannon per-connection hook, e.g. to give each connection its own body. */
  setupClient?: (client: autocannon.Client) => void
}

export interface Scenario {
  /** Short unique id used by `--only` and as the baseline reference, e.g. 'product-404'. */
  id: string
  /** Human label, e.g. 'GET /api/v1/nope'. */
  title: string
  server: ServerSpec
  /** A function is called after the servers' setup, for requests that need credentials or ids known only then. */
  request: ScenarioRequest | (() => ScenarioRequest)
  /** The only status counted as correct; everything else (and socket errors) is reported as unexpected. */
  expectStatus: number
  /** Checked by one probe request before the load, e.g. 'application/problem+json'. */
  expectContentType?: string
  /** Id of the scenario whose median req/s is the denominator of this scenario's ratio. */
  baseline?: string
  /** Minimal acceptable ratio vs `baseline` (PASS/MISS). */
  target?: number
  /** PASS also needs p50 <= p50Factor × the baseline's p50 (e.g. a deep page vs the first page). */
  p50Factor?: number
  /** PASS also needs p99 < p99Factor × the baseline's p99. */
  p99Factor?: number
  /** PASS also needs the server's max RSS during the scenario below this (MB). */
  rssLimitMb?: number
  /** Concurrent connections for this scenario (default BENCH_CONNECTIONS); 1 = sequential requests. */
  connections?: number
  /**
   * A throughput the scenario measures itself instead of autocannon over `request` (which then only names
   * what is sent): e.g. faults a second through bulk jobs. Its rate takes the place of req/s (ratio, median).
   */
  measure?: Measure
  /**
   * Opt-in scenarios (slow setup) run only when a --only token is a prefix of their id
   * (`--only deep` picks `deep-sqlite-…`), never in a plain `npm run bench`.
   */
  optIn?: boolean
}

/** What one run of a self-measuring scenario did: `items` (e.g. faults) in `seconds`, and what it saw. */
export interface MeasuredRun {
  items: number
  seconds: number
  statusCounts: Record<string, number>
  /** Responses or outcomes other than the expected ones (e.g. a job not completed, a record not created). */
  unexpected: number
}

export interface Measure {
  /** What the rate counts, e.g. 'faults/s'. */
  unit: string
  /** One run against the started server; `warmUp`: a short, discarded one. Throws on a failed run. */
  run: (server: { port: number; pid: number }, options: { warmUp: boolean }) => Promise<MeasuredRun>
}

/** One autocannon run of one scenario (or one run of a self-measuring one: `measured`). */
export interface RunSample {
  /** autocannon's requests.average (mean of per-second samples); for a measured run, its items ÷ seconds. */
  rps: number
  /** Latency percentiles in ms at 10 µs resolution (from autocannon 'response' events); null for a measured run. */
  p50: number | null
  p99: number | null
  /** autocannon's own result.latency.p50 / p99 (whole milliseconds, truncated), kept for reference. */
  autocannonP50: number | null
  autocannonP99: number | null
  /**
   * A self-measuring scenario's items and seconds, and the CPU seconds its server process used meanwhile
   * (on a busy machine steadier than the wall clock; PostgreSQL's own processes are not counted).
   */
  measured?: { items: number; seconds: number; serverCpuSeconds: number | null }
  requests: number
  statusCounts: Record<string, number>
  unexpected: number
  errors: number
  timeouts: number
  rssMaxMb: number | null
}

export type Verdict = 'PASS' | 'MISS' | 'ERROR' | 'SKIP' | '-'

export interface ScenarioResult {
  id: string
  title: string
  server: string
  expectStatus: number
  /** What `rps` counts: 'req/s', or a self-measuring scenario's unit (e.g. 'faults/s'). */
  unit: string
  /** Median over runs. */
  rps: number | null
  p50: number | null
  p99: number | null
  /** Max server RSS seen across all runs of the scenario. */
  rssMaxMb: number | null
  baseline: string | null
  /** Median over rounds of this scenario's rate ÷ its baseline's in the same round. */
  ratio: number | null
  /** The median rate ÷ the baseline's median rate, kept in the JSON for comparison. */
  ratioOfMedians: number | null
  target: number | null
  connections: number
  /** p50 and p99 ÷ the baseline's, paired by round as `ratio` is. */
  p50Ratio: number | null
  p99Ratio: number | null
  p50Factor: number | null
  p99Factor: number | null
  rssLimitMb: number | null
  /** Summed over runs: responses with another status than expectStatus, socket errors, timeouts. */
  unexpected: number
  errors: number
  timeouts: number
  statusCounts: Record<string, number>
  probe: string | null
  verdict: Verdict
  note: string | null
  runs: RunSample[]
}
