// Bulk results are stored a batch to a row, as the records are: the batch's results as one JSON array under
// the index of its first record. A row per result cost two B-tree inserts and a foreign-key check per record.
// Results written a row each before this are moved over by 20261204000200.
// Frozen: never import app code here.
import { type Kysely, PostgresAdapter } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  const idType = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer'
  // The primary key stays the last line of defence of "applied once": a batch whose results were written twice cannot commit.
  await db.schema
    .createTable('bulk_job_result_batches')
    .addColumn('job_id', idType, (c) => c.notNull().references('bulk_jobs.id').onDelete('cascade'))
    .addColumn('index', 'integer', (c) => c.notNull())
    .addColumn('results', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('bulk_job_result_batches_pk', ['job_id', 'index'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('bulk_job_result_batches').execute()
}
