// An idempotency row is now written only with the outcome, in the write's own transaction; a key in flight
// is held by the process serving it, not by a row. The claim columns go, with any claim left behind, and
// so does response_status (every recorded outcome is a 201, replayed as 200).
// Frozen: never import app code here.
import { type Kysely, PostgresAdapter, sql } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`delete from idempotency_keys where status <> 'completed'`.execute(db)
  // SQLite drops one column per statement.
  for (const column of ['status', 'lease', 'locked_at', 'response_status']) {
    await db.schema.alterTable('idempotency_keys').dropColumn(column).execute()
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const time = db.getExecutor().adapter instanceof PostgresAdapter ? 'timestamptz' : 'text'
  await db.schema.alterTable('idempotency_keys').addColumn('response_status', 'integer').execute()
  await sql`update idempotency_keys set response_status = 201`.execute(db)
  await db.schema
    .alterTable('idempotency_keys')
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('completed'))
    .execute()
  await db.schema
    .alterTable('idempotency_keys')
    .addColumn('lease', 'varchar(32)', (c) => c.notNull().defaultTo(''))
    .execute()
  await db.schema
    .alterTable('idempotency_keys')
    .addColumn('locked_at', time, (c) => c.notNull().defaultTo('1970-01-01T00:00:00.000Z'))
    .execute()
}
