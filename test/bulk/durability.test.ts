// A job survives its server (CONTRACT §10): SIGKILL mid-run, restart, and every record is applied exactly once.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { createDatabase } from '../../src/db/database.js'
import { findResults } from '../../src/modules/bulk/bulk.repository.js'
import { engine } from '../helpers/app.js'
import { api, cliAccount, processDatabase, type Server, startServer } from '../helpers/process.js'

const RECORDS = 3000

interface Job {
  id: number
  status: string
  records_count: number
  succeeded_count: number
  failed_count: number
  results: Array<{ index: number; status: number; id?: number }>
}

/** What the database holds of the job and its faults, read with the servers down or beside them. */
async function stored(url: string, jobId: number, accountId: number) {
  const database = createDatabase(loadConfig({ DATABASE_URL: url }))
  try {
    const job = await database.db.selectFrom('bulk_jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow()
    const results = await findResults(database.db, jobId)
    const faults = await database.db.selectFrom('faults').select(['id', 'external_id']).where('account_id', '=', accountId).execute()
    return { job, results, faults }
  } finally {
    await database.close()
  }
}

describe(`a bulk job under SIGKILL (${engine})`, () => {
  it('resumes on restart at the first unprocessed batch: each record applied once', async () => {
    const database = await processDatabase()
    const env = {
      DATABASE_URL: database.url,
      RATE_LIMIT_QUOTA: '1000000',
      REDIS_KEY_PREFIX: `bulk-durability-${randomBytes(4).toString('hex')}:`,
      BULK_MAX_RECORDS: String(RECORDS),
    }
    let server: Server | undefined
    try {
      const account = await cliAccount(env, 'Bulk', 'bulk-durable@example.com')
      const { headers } = account
      server = await startServer(env)
      const vehicle = await api<{ id: number }>(server, headers, 'POST', '/api/v1/vehicles', { name: 'Truck' })
      await api<object>(server, headers, 'POST', '/api/v1/fault_rules', { code: 'P0300' })
      const records = Array.from({ length: RECORDS }, (_, i) => ({ vehicle_id: vehicle.id, code: 'P0300', external_id: `bulk-${i}` }))
      const job = await api<Job>(server, headers, 'POST', '/api/v1/bulk_api_jobs', { resource: 'fault', operation: 'create', records })

      // Kill it as soon as the job is under way.
      const victim = server
      for (;;) {
        const seen = await api<Job>(victim, headers, 'GET', `/api/v1/bulk_api_jobs/${job.id}`)
        assert.notEqual(seen.status, 'completed', 'the job finished before it could be killed')
        if (seen.succeeded_count > 0) break
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      victim.child.kill('SIGKILL')
      assert.equal(await victim.stop(), null, 'killed, not stopped')

      const atDeath = await stored(database.url, job.id, account.accountId)
      const applied = atDeath.job.processed_count
      assert.equal(atDeath.job.status, 'processing')
      assert.ok(applied > 0 && applied < RECORDS, `killed mid-run, at ${applied} of ${RECORDS}`)
      assert.equal(atDeath.results.length, applied, 'results and cursor committed together')
      assert.equal(atDeath.faults.length, applied, 'faults and cursor committed together')

      server = await startServer(env)
      const restarted = server
      let done: Job | undefined
      const deadline = Date.now() + 60_000
      while (Date.now() < deadline) {
        const seen = await api<Job>(restarted, headers, 'GET', `/api/v1/bulk_api_jobs/${job.id}`)
        if (seen.status === 'completed' || seen.status === 'failed') {
          done = seen
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.ok(done, 'the job completed after the restart')
      assert.deepEqual([done.status, done.succeeded_count, done.failed_count], ['completed', RECORDS, 0])
      assert.deepEqual(
        done.results.map((result) => result.index),
        records.map((_, i) => i),
      )

      const after = await stored(database.url, job.id, account.accountId)
      assert.equal(after.job.attempts, 1, 'the takeover from the dead worker counted once')
      assert.equal(after.faults.length, RECORDS, 'exactly one fault per record')
      assert.equal(new Set(after.faults.map((fault) => fault.external_id)).size, RECORDS)
      const externalIdOf = new Map(after.faults.map((fault) => [fault.id, fault.external_id]))
      for (const result of done.results) assert.equal(externalIdOf.get(result.id as number), `bulk-${result.index}`)
      assert.equal(await restarted.stop('SIGTERM'), 0)
    } finally {
      if (server && server.child.exitCode === null) await server.stop('SIGKILL')
      await database.drop()
    }
  })
})
