// The migration that moves results stored a row each into batch rows keeps every result as the API showed it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Kysely, type Migration, Migrator } from 'kysely'
import { createDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { migrations } from '../../src/db/migrations/index.js'
import { findResults } from '../../src/modules/bulk/bulk.repository.js'
import { engine, freshDatabaseUrl } from '../helpers/app.js'

describe(`migration 20261204000200_bulk_results_into_batches (${engine})`, () => {
  it("moves each job's results into one batch row, in the API shape and order, and back down again", async () => {
    const fresh = await freshDatabaseUrl()
    const database = createDatabase({ DATABASE_URL: fresh.url, SQLITE_SYNCHRONOUS: 'NORMAL' })
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the tables as they were before the migration
      const db = database.db as unknown as Kysely<any>
      const migrator = new Migrator({ db, provider: { getMigrations: async (): Promise<Record<string, Migration>> => migrations } })
      const before = await migrator.migrateTo('20261204000100_bulk_result_batches')
      if (before.error) throw before.error

      const now = new Date().toISOString()
      const { id: accountId } = await db
        .insertInto('accounts')
        .values({ name: 'a', account_token: 'token-a', created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow()
      const job = {
        account_id: accountId,
        resource: 'fault',
        operation: 'create',
        status: 'completed',
        records_count: 3,
        created_at: now,
        updated_at: now,
      }
      const jobs = await db.insertInto('bulk_jobs').values([job, job, job]).returning('id').execute()
      const [first, second, untouched] = jobs.map((row) => Number(row.id)) as [number, number, number]
      // Written a row each, out of order, as the code before batches did.
      await db
        .insertInto('bulk_job_results')
        .values([
          { job_id: first, index: 2, status: 201, record_id: 12, errors: null },
          { job_id: first, index: 0, status: 201, record_id: 10, errors: null },
          { job_id: first, index: 1, status: 422, record_id: null, errors: JSON.stringify({ code: ["can't be blank"] }) },
          { job_id: second, index: 0, status: 404, record_id: null, errors: JSON.stringify({ id: ['must exist'] }) },
        ])
        .execute()
      const expected = {
        [first]: [
          { index: 0, status: 201, id: 10 },
          { index: 1, status: 422, errors: { code: ["can't be blank"] } },
          { index: 2, status: 201, id: 12 },
        ],
        [second]: [{ index: 0, status: 404, errors: { id: ['must exist'] } }],
        [untouched]: [],
      }

      await migrateToLatest(db)
      for (const id of [first, second, untouched]) assert.deepEqual(await findResults(database.db, id), expected[id])
      assert.equal((await db.selectFrom('bulk_job_result_batches').select('job_id').execute()).length, 2, 'one row a job')

      const down = await migrator.migrateTo('20261204000100_bulk_result_batches')
      if (down.error) throw down.error
      const rows = await db
        .selectFrom('bulk_job_results')
        .select(['job_id', 'index', 'status', 'record_id'])
        .orderBy('job_id')
        .orderBy('index')
        .execute()
      assert.deepEqual(
        rows.map((row) => [Number(row.job_id), row.index, row.status, row.record_id === null ? null : Number(row.record_id)]),
        [
          [first, 0, 201, 10],
          [first, 1, 422, null],
          [first, 2, 201, 12],
          [second, 0, 404, null],
        ],
      )
    } finally {
      await database.close()
      await fresh.drop()
    }
  })
})
