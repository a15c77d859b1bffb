// Bulk jobs (CONTRACT §10): the job, its submitted records (kept until it finishes, so a restart can
// resume) and one result per processed record. A worker holds a job by lease: owner and heartbeat.
import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter
  const id = (col: ColumnDefinitionBuilder) => (pg ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement())
  const idType = pg ? 'bigint' : 'integer'
  const time = pg ? 'timestamptz' : 'text'
  const now = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`
  const counter = (col: ColumnDefinitionBuilder) => col.notNull().defaultTo(0)

  await db.schema
    .createTable('bulk_jobs')
    .addColumn('id', idType, id)
    .addColumn('account_id', idType, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('resource', 'varchar(16)', (c) => c.notNull().check(sql`resource in ('fault', 'vehicle')`))
    .addColumn('operation', 'varchar(16)', (c) => c.notNull().check(sql`operation in ('create', 'update')`))
    .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql`status in ('queued', 'processing', 'completed', 'failed')`))
    // Prefer: handling=strict at submission: unknown attributes of a record are 422s, as on the single endpoint.
    .addColumn('strict', 'integer', counter)
    .addColumn('records_count', 'integer', (c) => c.notNull())
    // Records [0, processed_count) have their results: the cursor a resumed job continues from.
    .addColumn('processed_count', 'integer', counter)
    .addColumn('succeeded_count', 'integer', counter)
    .addColumn('failed_count', 'integer', counter)
    // Failed batches and takeovers from a dead worker; past a limit the job fails instead of looping.
    .addColumn('attempts', 'integer', counter)
    .addColumn('lease_owner', 'varchar(64)')
    .addColumn('heartbeat_at', time)
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('started_at', time)
    .addColumn('completed_at', time)
    .execute()
  for (const [name, columns] of [
    ['bulk_jobs_account_idx', ['account_id', 'id']],
    ['bulk_jobs_account_created_at_idx', ['account_id', 'created_at', 'id']],
    ['bulk_jobs_account_status_idx', ['account_id', 'status', 'id']],
    ['bulk_jobs_status_idx', ['status', 'id']],
    ['bulk_jobs_completed_at_idx', ['completed_at']],
  ] as const) {
    await db.schema
      .createIndex(name)
      .on('bulk_jobs')
      .columns([...columns])
      .execute()
  }

  await db.schema
    .createTable('bulk_job_records')
    .addColumn('job_id', idType, (c) => c.notNull().references('bulk_jobs.id').onDelete('cascade'))
    .addColumn('index', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('bulk_job_records_pk', ['job_id', 'index'])
    .execute()

  // The primary key is the last line of defence of "applied once": a batch written twice cannot commit.
  await db.schema
    .createTable('bulk_job_results')
    .addColumn('job_id', idType, (c) => c.notNull().references('bulk_jobs.id').onDelete('cascade'))
    .addColumn('index', 'integer', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('record_id', idType)
    .addColumn('errors', 'text')
    .addPrimaryKeyConstraint('bulk_job_results_pk', ['job_id', 'index'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['bulk_job_results', 'bulk_job_records', 'bulk_jobs']) await db.schema.dropTable(table).execute()
}
