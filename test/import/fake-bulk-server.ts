// A stand-in for the bulk API (CONTRACT §10) on 127.0.0.1, to test the importer's side alone:
// jobs keyed by Idempotency-Key (a replay answers 200 with the same job), finished after a few polls.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RowErrors } from '../../src/import/records.js'

interface Job {
  id: number
  records: Record<string, unknown>[]
  polls: number
  status: 'queued' | 'completed' | 'failed'
}

export interface FakeBulkServer {
  url: string
  /** Every record created, in order: what "the server holds". */
  created: Record<string, unknown>[]
  jobs: Job[]
  posts: { key: string | undefined; status: number }[]
  maxInFlight: number
  close(): Promise<void>
}

export interface FakeOptions {
  /** Field errors for a record the fake refuses, else undefined. */
  validate?: (record: Record<string, unknown>) => RowErrors | undefined
  /** GETs that answer `queued` (with Retry-After: 0) before the job completes. */
  pollsBeforeDone?: number
  /** Answers a POST itself when it returns true (e.g. a 429 first, or a 422 envelope). */
  intercept?: (request: IncomingMessage, response: ServerResponse, postNumber: number) => boolean
  /** Jobs whose id is in here end `failed` after processing their first record. */
  failJobs?: number[]
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers })
  response.end(JSON.stringify(body))
}

export async function startFakeBulkServer(options: FakeOptions = {}): Promise<FakeBulkServer> {
  const byKey = new Map<string, Job>()
  const state = { created: [] as Record<string, unknown>[], jobs: [] as Job[], posts: [] as FakeBulkServer['posts'], maxInFlight: 0 }
  const results = new Map<number, { index: number; status: number; id?: number; errors?: RowErrors }[]>()
  const inFlight = () => state.jobs.filter((job) => job.status === 'queued').length

  const view = (job: Job) => {
    const done = results.get(job.id) ?? []
    const succeeded = done.filter((result) => result.status === 201).length
    return {
      id: job.id,
      resource: 'fault',
      operation: 'create',
      status: job.status,
      records_count: job.records.length,
      succeeded_count: succeeded,
      failed_count: done.length - succeeded,
      results: done,
    }
  }

  const finish = (job: Job) => {
    const done: { index: number; status: number; id?: number; errors?: RowErrors }[] = []
    for (const [index, record] of job.records.entries()) {
      if (options.failJobs?.includes(job.id) && index > 0) break
      const errors = options.validate?.(record)
      if (errors) done.push({ index, status: 422, errors })
      else {
        state.created.push(record)
        done.push({ index, status: 201, id: state.created.length })
      }
    }
    results.set(job.id, done)
    job.status = options.failJobs?.includes(job.id) ? 'failed' : 'completed'
  }

  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/api/v1/bulk_api_jobs') {
        if (options.intercept?.(request, response, state.posts.length + 1)) {
          state.posts.push({ key: undefined, status: response.statusCode })
          return
        }
        const key = request.headers['idempotency-key'] as string | undefined
        const known = key ? byKey.get(key) : undefined
        if (known) {
          state.posts.push({ key, status: 200 })
          return send(response, 200, view(known), {
            'content-location': `/api/v1/bulk_api_jobs/${known.id}`,
            'idempotent-replayed': 'true',
          })
        }
        const job: Job = { id: state.jobs.length + 1, records: JSON.parse(body).records, polls: 0, status: 'queued' }
        state.jobs.push(job)
        if (key) byKey.set(key, job)
        state.maxInFlight = Math.max(state.maxInFlight, inFlight())
        state.posts.push({ key, status: 202 })
        return send(response, 202, view(job), { 'content-location': `/api/v1/bulk_api_jobs/${job.id}`, 'retry-after': '0' })
      }
      const match = /^\/api\/v1\/bulk_api_jobs\/(\d+)$/.exec(request.url ?? '')
      const job = match ? state.jobs[Number(match[1]) - 1] : undefined
      if (request.method !== 'GET' || !job) return send(response, 404, { status: 404, title: 'Not Found' })
      if (job.status === 'queued' && ++job.polls > (options.pollsBeforeDone ?? 1)) finish(job)
      return send(response, 200, view(job), job.status === 'queued' ? { 'retry-after': '0' } : {})
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get created() {
      return state.created
    },
    get jobs() {
      return state.jobs
    },
    get posts() {
      return state.posts
    },
    get maxInFlight() {
      return state.maxInFlight
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      }),
  }
}
