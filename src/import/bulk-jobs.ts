// One bulk job from the client's side (CONTRACT §10): submit it with its Idempotency-Key, then poll
// its status monitor, honouring Retry-After, until the server has finished it.
import { type ApiClient, type ApiResponse, retryAfterMs, sleep } from './http-client.js'
import { ImportError, type Resource, type RowErrors } from './records.js'

export interface BulkResult {
  index: number
  status: number
  id?: number
  errors?: RowErrors
}

export interface BulkJob {
  id: number
  resource: string
  operation: string
  status: 'queued' | 'processing' | 'completed' | 'failed'
  records_count: number
  succeeded_count: number
  failed_count: number
  results: BulkResult[]
  [extra: string]: unknown
}

export interface Submitted {
  job: BulkJob
  /** Where the job's status is read (Content-Location, else the job's own path). */
  location: string
  /** The server already had this key: the job comes from an earlier run. */
  replayed: boolean
  /** The server's Retry-After on the submission: when to look first. */
  retryAfterMs: number | undefined
}

export const BULK_JOBS_PATH = '/api/v1/bulk_api_jobs'

/** How long to wait between polls when the server sends no Retry-After. */
const POLL_DELAYS_MS = [200, 400, 800, 1600, 3200]
/** Never poll faster than this, whatever Retry-After says. */
const MIN_POLL_MS = 100

/** The fatal error for an answer the importer cannot go on from, with the problem's detail. */
export function refused(what: string, response: ApiResponse): ImportError {
  const problem = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>
  const title = typeof problem.title === 'string' ? problem.title : 'no problem details'
  const detail = typeof problem.detail === 'string' ? `: ${problem.detail}` : ''
  const errors = problem.errors ? ` ${JSON.stringify(problem.errors)}` : ''
  const hint =
    response.status === 413 || (response.status === 422 && /records/.test(`${detail}${errors}`))
      ? ' (try a smaller --batch-size)'
      : response.status === 401
        ? ' (check --api-key and --account-token)'
        : ''
  return new ImportError(`${what} answered ${response.status} ${title}${detail}${errors}${hint}`)
}

function asJob(response: ApiResponse, what: string): BulkJob {
  const job = response.body as Partial<BulkJob> | null
  if (!job || typeof job !== 'object' || typeof job.id !== 'number' || typeof job.status !== 'string') {
    throw new ImportError(`${what} answered ${response.status} without a bulk job in its body`)
  }
  return { ...job, results: Array.isArray(job.results) ? job.results : [] } as BulkJob
}

export async function submitJob(client: ApiClient, resource: Resource, records: unknown[], key: string): Promise<Submitted> {
  const what = `POST ${BULK_JOBS_PATH}`
  const response = await client.request('POST', BULK_JOBS_PATH, { resource, operation: 'create', records }, { 'idempotency-key': key })
  if (response.status !== 202 && response.status !== 200 && response.status !== 201) throw refused(what, response)
  const job = asJob(response, what)
  const location = response.headers.get('content-location') ?? `${BULK_JOBS_PATH}/${job.id}`
  const replayed = response.status === 200 || response.headers.get('idempotent-replayed') === 'true'
  return { job, location, replayed, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) }
}

export function finished(job: BulkJob): boolean {
  return job.status === 'completed' || job.status === 'failed'
}

/** Polls the job until it is completed or failed; `signal` stops the wait between polls. */
export async function awaitJob(client: ApiClient, submitted: Submitted, signal?: AbortSignal): Promise<BulkJob> {
  let job = submitted.job
  let retryAfter = submitted.retryAfterMs
  for (let poll = 0; !finished(job); poll++) {
    const delay = retryAfter ?? POLL_DELAYS_MS[Math.min(poll, POLL_DELAYS_MS.length - 1)] ?? 1000
    await sleep(Math.max(MIN_POLL_MS, delay), signal)
    const response = await client.request('GET', submitted.location)
    if (response.status !== 200) throw refused(`GET ${submitted.location}`, response)
    job = asJob(response, `GET ${submitted.location}`)
    retryAfter = retryAfterMs(response.headers.get('retry-after'))
  }
  return job
}
