// Results stored a row each (before 20261204000100) move into bulk_job_result_batches, one row per job
// under its first index, in the shape the API shows; then bulk_job_results goes, and with it the second
// read every job's results needed.
// Frozen: never import app code here.
import { type Kysely, PostgresAdapter } from 'kysely'

interface ResultRow {
  index: number
  status: number
  record_id: number | string | null
  errors: string | null
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  const jobs = await db.selectFrom('bulk_job_results').select('job_id').distinct().execute()
  for (const { job_id: jobId } of jobs) {
    const rows: ResultRow[] = await db
      .selectFrom('bulk_job_results')
      .select(['index', 'status', 'record_id', 'errors'])
      .where('job_id', '=', jobId)
      .orderBy('index')
      .execute()
    const results = rows.map((row) => ({
      index: row.index,
      status: row.status,
      ...(row.record_id === null ? {} : { id: Number(row.record_id) }),
      ...(row.errors === null ? {} : { errors: JSON.parse(row.errors) as unknown }),
    }))
    await db
      .insertInto('bulk_job_result_batches')
      .values({ job_id: jobId, index: rows[0]?.index ?? 0, results: JSON.stringify(results) })
      .execute()
  }
  await db.schema.dropTable('bulk_job_results').execute()
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  const idType = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer'
  await db.schema
    .createTable('bulk_job_results')
    .addColumn('job_id', idType, (c) => c.notNull().references('bulk_jobs.id').onDelete('cascade'))
    .addColumn('index', 'integer', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('record_id', idType)
    .addColumn('errors', 'text')
    .addPrimaryKeyConstraint('bulk_job_results_pk', ['job_id', 'index'])
    .execute()
  const batches: { job_id: number; results: string }[] = await db
    .selectFrom('bulk_job_result_batches')
    .select(['job_id', 'results'])
    .execute()
  for (const batch of batches) {
    const results = JSON.parse(batch.results) as { index: number; status: number; id?: number; errors?: unknown }[]
    await db
      .insertInto('bulk_job_results')
      .values(
        results.map((result) => ({
          job_id: batch.job_id,
          index: result.index,
          status: result.status,
          record_id: result.id ?? null,
          errors: result.errors === undefined ? null : JSON.stringify(result.errors),
        })),
      )
      .execute()
  }
  await db.deleteFrom('bulk_job_result_batches').execute()
}
