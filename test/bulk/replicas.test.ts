// Two servers on one PostgreSQL database share the queue: every job is run, and every record applied,
// exactly once, whichever worker claims it. (SQLite is the single-process engine: PostgreSQL only.)
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { findResults } from '../../src/modules/bulk/bulk.repository.js'
import { engine, freshDatabaseUrl } from '../helpers/app.js'
import { makeAccount, type TestAccount } from '../helpers/factories.js'
import { makeRule, makeVehicle } from '../helpers/fleet.js'
import { accepted, finished } from './helpers.js'

const JOBS = 24
const RECORDS = 150

describe('bulk jobs on two servers sharing PostgreSQL', { skip: engine !== 'postgres' && 'replicas need PostgreSQL' }, () => {
  let apps: FastifyInstance[] = []
  let drop: () => Promise<void>
  let acme: TestAccount
  let vehicleId: number

  before(async () => {
    const fresh = await freshDatabaseUrl()
    drop = fresh.drop
    const config = loadConfig({ DATABASE_URL: fresh.url, LOG_LEVEL: 'silent', RATE_LIMIT_QUOTA: '100000' })
    const first = createDatabase(config)
    await migrateToLatest(first.db)
    apps = [await buildApp(config, { database: first }), await buildApp(config, { database: createDatabase(config) })]
    await Promise.all(apps.map((app) => app.ready()))
    const [a] = apps as [FastifyInstance]
    acme = await makeAccount(a)
    vehicleId = (await makeVehicle(a, acme.accountId)).id
    await makeRule(a, acme.accountId, { code: 'P0300' })
  })
  after(async () => {
    for (const app of apps) await app.close()
    await drop()
  })

  it('runs each job once and applies each record once, the two workers sharing the work', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance]
    const jobs = []
    for (let j = 0; j < JOBS; j++) {
      const records = Array.from({ length: RECORDS }, (_, i) => ({ vehicle_id: vehicleId, code: 'P0300', external_id: `j${j}-${i}` }))
      jobs.push(await accepted(j % 2 === 0 ? a : b, acme, { resource: 'fault', operation: 'create', records }))
    }
    for (const [j, job] of jobs.entries()) {
      // Each server answers for every job, whichever ran it.
      const done = await finished(j % 2 === 0 ? b : a, acme, job.id, 60_000)
      assert.deepEqual([done.status, done.succeeded_count, done.failed_count, done.results.length], ['completed', RECORDS, 0, RECORDS])
      assert.deepEqual(
        done.results.map((result) => result.index),
        Array.from({ length: RECORDS }, (_, i) => i),
      )
    }

    const db = a.database.db
    const faults = await db.selectFrom('faults').select(['id', 'external_id']).where('account_id', '=', acme.accountId).execute()
    assert.equal(faults.length, JOBS * RECORDS, 'one fault per record')
    assert.equal(new Set(faults.map((fault) => fault.external_id)).size, JOBS * RECORDS)
    const externalIdOf = new Map(faults.map((fault) => [fault.id, fault.external_id]))
    const results = (
      await Promise.all(jobs.map(async (job, j) => (await findResults(db, job.id)).map((result) => ({ ...result, j }))))
    ).flat()
    assert.equal(results.length, JOBS * RECORDS)
    for (const result of results) assert.equal(externalIdOf.get(result.id as number), `j${result.j}-${result.index}`)
    const rows = await db.selectFrom('bulk_jobs').select(['lease_owner', 'attempts']).where('account_id', '=', acme.accountId).execute()
    assert.ok(
      rows.every((row) => row.attempts === 0),
      'no job was taken over or retried',
    )
    assert.equal(new Set(rows.map((row) => row.lease_owner)).size, 2, 'both workers finished jobs')
  })
})
