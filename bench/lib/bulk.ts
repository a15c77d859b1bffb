// The bulk-ingest group: faults a second through bulk jobs (CONTRACT §10), from the first submission until
// every job is completed, against raw multi-row inserts of the same rows (bench/baseline-db.ts POST /bulk-insert).
import { loadConfig } from '../../src/config.js'
import { intEnv } from './config.js'
import { bulkRecord } from './fixtures.js'
import { baselineDbServer, type Engine, productDbServer } from './fleet.js'
import { api } from './product.js'
import type { MeasuredRun, Scenario } from './types.js'

/** Jobs a run submits: 50 × 1,000 faults last several seconds on either engine, long enough to average out a noisy machine. */
export const BULK_JOBS = intEnv('BENCH_BULK_JOBS', 50, 1, 100)
/** Records a job: the server's default BULK_MAX_RECORDS (the product server is started with this as its maximum). */
export const BULK_RECORDS = intEnv('BENCH_BULK_RECORDS', 1000, 1, 100_000)
/** The worker's batch (the product's BULK_BATCH_SIZE, passed to it explicitly): the raw inserts use the same. */
export const BULK_BATCH = intEnv('BENCH_BULK_BATCH', loadConfig({}).BULK_BATCH_SIZE, 1, 10_000)
/** A warm-up run: enough batches to compile the worker's and the insert's hot paths. */
const WARMUP_JOBS = 2
/** How often the product is asked whether every job has finished: the time measured is at most this late. */
const POLL_MS = 100
/** "Bulk ingest must reach half the rate of a raw multi-row insert of the same rows." */
const BULK_TARGET = 0.5
const JOBS_PATH = '/api/v1/bulk_api_jobs'

interface JobSummary {
  id: number
  status: string
  records_count: number
  succeeded_count: number
  completed_at: string | null
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Faults each run of a server adds: numbered on, so every row of a database has an external_id of its own. */
function counter(): (count: number) => number {
  let next = 0
  return (count) => {
    const first = next
    next += count
    return first
  }
}

/**
 * Submits `jobs` jobs of BULK_RECORDS faults one after the other (bodies serialized beforehand), then polls
 * the account's unfinished jobs until there are none. Timed from the first submission until the last job's
 * `completed_at` (the server stamps it as the job's last batch commits): the answer of the poll that saw them
 * all done comes up to POLL_MS later, which measured the poll interval rather than the product. Should a job
 * not complete, until that answer.
 */
async function ingestThroughJobs(port: number, headers: Record<string, string>, first: number, jobs: number): Promise<MeasuredRun> {
  const bodies = Array.from({ length: jobs }, (_, job) =>
    JSON.stringify({
      resource: 'fault',
      operation: 'create',
      records: Array.from({ length: BULK_RECORDS }, (_, i) => bulkRecord(first + job * BULK_RECORDS + i)),
    }),
  )
  const started = new Date()
  const t0 = performance.now()
  const ids: number[] = []
  for (const body of bodies) ids.push((await api<JobSummary>(port, 'POST', JOBS_PATH, headers, body, 202)).id)
  const unfinished = `${JOBS_PATH}?per_page=1&filter[status][include]=queued,processing`
  while ((await api<{ records: JobSummary[] }>(port, 'GET', unfinished, headers)).records.length > 0) await sleep(POLL_MS)
  const polledSeconds = (performance.now() - t0) / 1000

  const since = encodeURIComponent(started.toISOString())
  const { records } = await api<{ records: JobSummary[] }>(
    port,
    'GET',
    `${JOBS_PATH}?per_page=100&filter[created_at][gte]=${since}`,
    headers,
  )
  const mine = records.filter((job) => ids.includes(job.id))
  const statusCounts: Record<string, number> = {}
  for (const job of mine) statusCounts[job.status] = (statusCounts[job.status] ?? 0) + 1
  const created = mine.reduce((sum, job) => sum + (job.status === 'completed' ? job.succeeded_count : 0), 0)
  const items = jobs * BULK_RECORDS
  if (mine.length !== jobs) throw new Error(`listed ${mine.length} of the ${jobs} jobs submitted`)
  const finished = mine.map((job) => (job.completed_at === null ? Number.NaN : Date.parse(job.completed_at)))
  const completedSeconds = (Math.max(...finished) - started.getTime()) / 1000
  // Same machine, same clock; a millisecond of rounding either side.
  if (completedSeconds > polledSeconds + 0.002)
    throw new Error(`the last job completed ${completedSeconds} s in, after the poll at ${polledSeconds} s`)
  const seconds = Number.isNaN(completedSeconds) ? polledSeconds : completedSeconds
  return { items, seconds, statusCounts, unexpected: items - created }
}

/** The same rows straight into the baseline's database: multi-row INSERTs of `batch` rows, a transaction each. */
async function insertRaw(port: number, first: number, count: number, batch: number): Promise<MeasuredRun> {
  const t0 = performance.now()
  const { inserted } = await api<{ inserted: number }>(port, 'POST', '/bulk-insert', {}, { first, count, batch }, 200)
  return { items: count, seconds: (performance.now() - t0) / 1000, statusCounts: { inserted }, unexpected: count - inserted }
}

/**
 * Per engine: `bulk-E-raw` (the floor) and `bulk-E` (the product's bulk jobs), each on a fresh database of its
 * own that grows by the same rows every run. Opt-in: `--only bulk`.
 */
export function bulkScenarios(engine: Engine): Scenario[] {
  const product = productDbServer(`bulk-${engine}`, engine)
  product.spec.env = { ...product.spec.env, BULK_MAX_RECORDS: String(Math.max(BULK_RECORDS, 1000)), BULK_BATCH_SIZE: String(BULK_BATCH) }
  const baseline = baselineDbServer(`bulk-${engine}-raw`, engine, 0)
  const nextProduct = counter()
  const nextRaw = counter()
  const db = engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'
  const total = (BULK_JOBS * BULK_RECORDS).toLocaleString('en')
  const jobsOf = (warmUp: boolean) => (warmUp ? Math.min(WARMUP_JOBS, BULK_JOBS) : BULK_JOBS)
  return [
    {
      id: `bulk-${engine}-raw`,
      title: `${total} faults, multi-row INSERTs of ${BULK_BATCH}, a transaction each, ${db}`,
      server: baseline,
      request: { method: 'POST', path: '/bulk-insert' },
      expectStatus: 200,
      optIn: true,
      measure: {
        unit: 'faults/s',
        run: ({ port }, { warmUp }) => {
          const count = jobsOf(warmUp) * BULK_RECORDS
          return insertRaw(port, nextRaw(count), count, BULK_BATCH)
        },
      },
    },
    {
      id: `bulk-${engine}`,
      title: `${total} faults in ${BULK_JOBS} bulk jobs of ${BULK_RECORDS}, submission to completion, ${db}`,
      server: product.spec,
      request: { method: 'POST', path: JOBS_PATH },
      expectStatus: 202,
      optIn: true,
      baseline: `bulk-${engine}-raw`,
      target: BULK_TARGET,
      measure: {
        unit: 'faults/s',
        run: ({ port }, { warmUp }) => {
          const jobs = jobsOf(warmUp)
          return ingestThroughJobs(port, product.ctx().headers, nextProduct(jobs * BULK_RECORDS), jobs)
        },
      },
    },
  ]
}
