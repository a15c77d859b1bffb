// Bulk job helpers: submit through HTTP, wait for a job to finish, read what the database holds.
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import type { BulkJob } from '../../src/import/bulk-jobs.js'
import type { TestAccount } from '../helpers/factories.js'

/** A job as GET /bulk_api_jobs/{id} answers it: what the importer reads, and the timestamps. */
export type JobBody = BulkJob & {
  created_at: string
  started_at: string | null
  completed_at: string | null
}

export function submit(app: FastifyInstance, caller: Pick<TestAccount, 'headers'>, payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/bulk_api_jobs',
    headers: { ...caller.headers, ...headers },
    payload: payload as object,
  })
}

/** Submits a job that must be accepted; returns its body. */
export async function accepted(app: FastifyInstance, caller: Pick<TestAccount, 'headers'>, payload: unknown): Promise<JobBody> {
  const response = await submit(app, caller, payload)
  assert.equal(response.statusCode, 202, response.body)
  return response.json() as JobBody
}

/** Polls GET /bulk_api_jobs/{id} until the job is completed or failed. */
export async function finished(
  app: FastifyInstance,
  caller: Pick<TestAccount, 'headers'>,
  id: number,
  timeoutMs = 30_000,
): Promise<JobBody> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await app.inject({ url: `/api/v1/bulk_api_jobs/${id}`, headers: caller.headers })
    assert.equal(response.statusCode, 200, response.body)
    const job = response.json() as JobBody
    if (job.status === 'completed' || job.status === 'failed') return job
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function countRows(app: FastifyInstance, table: 'faults' | 'vehicles', accountId?: number) {
  let query = app.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'))
  if (accountId !== undefined) query = query.where('account_id', '=', accountId)
  return Number((await query.executeTakeFirstOrThrow()).n)
}
