// The worker's rules, driven directly on a database no server works on: claims and the per-account cap,
// leases and takeovers (a record never applied twice), shutdown hand-back and resume, failing, purging.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { FastifyBaseLogger } from 'fastify'
import { loadConfig } from '../../src/config.js'
import { createDatabase, type Database } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { ACCOUNT_CONCURRENCY, claimJob, LEASE_SECONDS, MAX_ATTEMPTS } from '../../src/modules/bulk/bulk.lease.js'
import { findResults, insertJob, purgeFinishedJobs } from '../../src/modules/bulk/bulk.repository.js'
import { LeaseLost, processBatch } from '../../src/modules/bulk/bulk.service.js'
import { createBulkWorker } from '../../src/modules/bulk/bulk.worker.js'
import { insertFaultRule } from '../../src/modules/fault-rules/fault-rules.repository.js'
import { createAccount } from '../../src/modules/identity/members.repository.js'
import { insertVehicle } from '../../src/modules/vehicles/vehicles.repository.js'
import { engine, freshDatabaseUrl } from '../helpers/app.js'

const silent = {
  level: 'silent',
  fatal() {},
  error() {},
  warn() {},
  info() {},
  debug() {},
  trace() {},
  silent() {},
  child() {
    return silent
  },
} as unknown as FastifyBaseLogger

const until = async (condition: () => Promise<boolean>, what: string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe(`bulk worker (${engine})`, () => {
  let database: Database
  let drop: () => Promise<void>
  let vehicleId: number
  let accountId: number

  const newAccount = async () =>
    (
      await database.db
        .transaction()
        .execute((trx) => createAccount(trx, { name: 'Fleet', email: `w-${randomBytes(4).toString('hex')}@example.com` }))
    ).account.id
  const faultRecords = (count: number, tag: string) =>
    Array.from({ length: count }, (_, i) => ({ vehicle_id: vehicleId, code: 'P0300', external_id: `${tag}-${i}` }))
  /** Stored in batches of 100, which the tests below count on. */
  const newJob = (account: number, records: object[]) =>
    database.db
      .transaction()
      .execute((trx) => insertJob(trx, account, { resource: 'fault', operation: 'create', strict: false, records }, 100))
  const jobRow = (id: number) => database.db.selectFrom('bulk_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const faultsTagged = async (tag: string) =>
    database.db.selectFrom('faults').select(['id', 'external_id']).where('external_id', 'like', `${tag}-%`).execute()
  const resultsOf = (jobId: number) => findResults(database.db, jobId)
  const expireLease = (jobId: number) =>
    database.db
      .updateTable('bulk_jobs')
      .set({ heartbeat_at: new Date(Date.now() - (LEASE_SECONDS + 1) * 1000).toISOString() })
      .where('id', '=', jobId)
      .execute()

  /** Runs a worker until the job reaches `status`, then stops it; returns the worker. */
  async function runWorkerUntil(jobId: number, status: 'completed' | 'failed') {
    const worker = createBulkWorker({ database, log: silent, retentionDays: 7 })
    worker.start()
    try {
      await until(async () => (await jobRow(jobId)).status === status, `the job to be ${status}`)
    } finally {
      await worker.stop()
    }
    return worker
  }

  before(async () => {
    const fresh = await freshDatabaseUrl()
    drop = fresh.drop
    database = createDatabase(loadConfig({ DATABASE_URL: fresh.url }))
    await migrateToLatest(database.db)
    accountId = await newAccount()
    vehicleId = (await insertVehicle(database.db, accountId, { name: 'Truck' })).id
    await insertFaultRule(database.db, accountId, { code: 'P0300' })
  })
  after(async () => {
    await database.close()
    await drop()
  })

  it(`runs at most ${ACCOUNT_CONCURRENCY} jobs of an account at once; other accounts' jobs pass the waiting ones`, async () => {
    const busy = await newAccount()
    const quiet = await newAccount()
    const busyJobs = []
    for (let i = 0; i < ACCOUNT_CONCURRENCY + 3; i++) busyJobs.push((await newJob(busy, [{}])).id)
    const quietJob = (await newJob(quiet, [{}])).id
    // A burst of claims as concurrent as the engine allows, by as many workers, then claims until none is left:
    // however they race, the cap holds. (A claimer that finds every candidate locked by another gets none this time.)
    const burst = await Promise.all(Array.from({ length: ACCOUNT_CONCURRENCY + 4 }, (_, i) => claimJob(database, `cap-worker-${i}`)))
    assert.ok(burst.filter((job) => job?.account_id === busy).length <= ACCOUNT_CONCURRENCY)
    const claims = [...burst]
    for (let i = claims.length; ; i++) {
      const job = await claimJob(database, `cap-worker-${i}`)
      if (!job) break
      claims.push(job)
    }
    const claimed = claims.flatMap((job) => (job ? [job] : []))
    const ofBusy = claimed.filter((job) => job.account_id === busy)
    assert.equal(ofBusy.length, ACCOUNT_CONCURRENCY, 'exactly the cap of the busy account')
    assert.equal(new Set(claimed.map((job) => job.id)).size, claimed.length, 'no job claimed twice')
    assert.ok(
      claimed.some((job) => job.id === quietJob),
      'the quiet account was not held up',
    )
    assert.equal(await claimJob(database, 'one-more'), undefined, 'nothing else may run')
    const processing = await database.db
      .selectFrom('bulk_jobs')
      .select('id')
      .where('account_id', '=', busy)
      .where('status', '=', 'processing')
      .execute()
    assert.equal(processing.length, ACCOUNT_CONCURRENCY)

    // A lease gone stale frees its place: the job is taken over (an attempt), the waiting ones still wait.
    const stale = ofBusy[0]?.id as number
    await expireLease(stale)
    const takeover = await claimJob(database, 'takeover')
    assert.equal(takeover?.id, stale)
    assert.equal(takeover?.attempts, 1)
    assert.equal(await claimJob(database, 'one-more'), undefined)

    // A finished job frees its place for the oldest waiting one.
    const holder = claims.find((job) => job?.id === ofBusy[1]?.id)
    assert.ok(holder)
    assert.equal(await processBatch(database, holder, `cap-worker-${claims.indexOf(holder)}`), true)
    const next = await claimJob(database, 'next')
    const waiting = busyJobs.filter((id) => !claimed.some((job) => job.id === id))
    assert.equal(waiting.length, 3)
    assert.equal(next?.id, Math.min(...waiting))
    assert.equal(next?.attempts, 0)
    // Out of the way of the tests below, whose workers would take these over once their leases lapse.
    await database.db.updateTable('bulk_jobs').set({ status: 'completed' }).where('account_id', 'in', [busy, quiet]).execute()
  })

  it('never applies a record twice when a job is taken over from a worker that was thought dead', async () => {
    const account = await newAccount()
    const vehicle = (await insertVehicle(database.db, account, { name: 'Van' })).id
    await insertFaultRule(database.db, account, { code: 'P0300' })
    const records = Array.from({ length: 250 }, (_, i) => ({ vehicle_id: vehicle, code: 'P0300', external_id: `takeover-${i}` }))
    const job = await newJob(account, records)
    const slow = await claimJob(database, 'slow-worker')
    assert.equal(slow?.id, job.id)
    assert.equal(await processBatch(database, slow, 'slow-worker'), false)
    await expireLease(job.id)
    const fresh = await claimJob(database, 'fresh-worker')
    assert.equal(fresh?.id, job.id)
    // The first worker wakes up: its lease is gone, so its batch commits nothing.
    await assert.rejects(processBatch(database, slow, 'slow-worker'), LeaseLost)
    assert.equal((await jobRow(job.id)).processed_count, 100)
    assert.equal(await processBatch(database, fresh, 'fresh-worker'), false)
    assert.equal(await processBatch(database, fresh, 'fresh-worker'), true)
    await assert.rejects(processBatch(database, fresh, 'fresh-worker'), LeaseLost, 'a completed job takes no more batches')
    const row = await jobRow(job.id)
    assert.deepEqual([row.status, row.processed_count, row.succeeded_count, row.failed_count], ['completed', 250, 250, 0])
    const results = await resultsOf(job.id)
    assert.deepEqual(
      results.map((result) => result.index),
      records.map((_, i) => i),
    )
    const faults = await faultsTagged('takeover')
    assert.equal(faults.length, 250, 'one fault per record')
    assert.equal(new Set(faults.map((fault) => fault.external_id)).size, 250)
  })

  it('hands unfinished jobs back on stop, and another worker resumes where the batches left off', async () => {
    const job = await newJob(accountId, faultRecords(3000, 'handback'))
    const first = createBulkWorker({ database, log: silent, retentionDays: 7 })
    first.start()
    await until(async () => (await jobRow(job.id)).processed_count > 0, 'the first batch')
    await first.stop()
    const stopped = await jobRow(job.id)
    assert.equal(stopped.status, 'queued', 'handed back, not left to a lease that must expire')
    assert.equal(stopped.lease_owner, null)
    assert.ok(stopped.processed_count > 0 && stopped.processed_count < 3000, `stopped at ${stopped.processed_count}`)
    assert.equal((await resultsOf(job.id)).length, stopped.processed_count, 'every processed record has its result, no more')
    assert.equal((await faultsTagged('handback')).length, stopped.processed_count)

    const second = await runWorkerUntil(job.id, 'completed')
    const done = await jobRow(job.id)
    assert.deepEqual([done.processed_count, done.succeeded_count, done.failed_count, done.attempts], [3000, 3000, 0, 0])
    assert.equal(done.lease_owner, second.id, 'the second worker finished it')
    const faults = await faultsTagged('handback')
    assert.equal(faults.length, 3000)
    assert.equal(new Set(faults.map((fault) => fault.external_id)).size, 3000)
  })

  it(`fails a job after ${MAX_ATTEMPTS} failed attempts, keeping the results of the batches that committed`, async () => {
    const job = await newJob(accountId, faultRecords(250, 'doomed'))
    // Four attempts already spent; the second batch's records (the chunk stored at 100) cannot even be read,
    // so that batch fails once more.
    await database.db
      .updateTable('bulk_jobs')
      .set({ attempts: MAX_ATTEMPTS - 1 })
      .where('id', '=', job.id)
      .execute()
    const corrupted = await database.db
      .updateTable('bulk_job_records')
      .set({ data: '[{not json' })
      .where('job_id', '=', job.id)
      .where('index', '=', 100)
      .executeTakeFirst()
    assert.equal(Number(corrupted.numUpdatedRows), 1)
    await runWorkerUntil(job.id, 'failed')
    const row = await jobRow(job.id)
    assert.deepEqual([row.processed_count, row.succeeded_count, row.attempts], [100, 100, MAX_ATTEMPTS])
    assert.ok(row.completed_at)
    assert.equal((await resultsOf(job.id)).length, 100)
    assert.equal((await faultsTagged('doomed')).length, 100, 'the failed batch applied nothing')
    const leftovers = await database.db.selectFrom('bulk_job_records').select('index').where('job_id', '=', job.id).execute()
    assert.equal(leftovers.length, 0)
  })

  it('fails, rather than runs again, a job whose holders keep dying', async () => {
    const job = await newJob(accountId, faultRecords(1, 'dying'))
    await database.db
      .updateTable('bulk_jobs')
      .set({ status: 'processing', lease_owner: 'dead', attempts: MAX_ATTEMPTS - 1 })
      .where('id', '=', job.id)
      .execute()
    await expireLease(job.id)
    await runWorkerUntil(job.id, 'failed')
    assert.equal((await faultsTagged('dying')).length, 0)
  })

  it('purges finished jobs past their retention, with their results, and nothing else', async () => {
    const old = new Date(Date.now() - 8 * 86_400_000).toISOString()
    const [expired, recent, unfinished] = [await newJob(accountId, [{}]), await newJob(accountId, [{}]), await newJob(accountId, [{}])]
    await database.db.updateTable('bulk_jobs').set({ status: 'completed', completed_at: old }).where('id', '=', expired.id).execute()
    await database.db
      .updateTable('bulk_jobs')
      .set({ status: 'completed', completed_at: new Date().toISOString() })
      .where('id', '=', recent.id)
      .execute()
    await database.db.updateTable('bulk_jobs').set({ created_at: old }).where('id', '=', unfinished.id).execute()
    await database.db
      .insertInto('bulk_job_result_batches')
      .values({ job_id: expired.id, index: 0, results: JSON.stringify([{ index: 0, status: 422, errors: {} }]) })
      .execute()
    assert.equal((await resultsOf(expired.id)).length, 1)
    const cutoff = new Date(Date.now() - 7 * 86_400_000)
    assert.ok((await purgeFinishedJobs(database.db, cutoff, 1)) >= 1)
    const left = await database.db.selectFrom('bulk_jobs').select('id').where('id', 'in', [expired.id, recent.id, unfinished.id]).execute()
    assert.deepEqual(
      left.map((row) => row.id).sort((a, b) => a - b),
      [recent.id, unfinished.id],
    )
    assert.equal((await resultsOf(expired.id)).length, 0)
    assert.equal((await database.db.selectFrom('bulk_job_records').select('index').where('job_id', '=', expired.id).execute()).length, 0)
  })
})
