// Vehicles, fault rules and faults, with the indexes that keep keyset pages flat in a large table.
import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter
  const id = (col: ColumnDefinitionBuilder) => (pg ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement())
  const idType = pg ? 'bigint' : 'integer'
  const time = pg ? 'timestamptz' : 'text'
  const now = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`

  await db.schema
    .createTable('vehicles')
    .addColumn('id', idType, id)
    .addColumn('account_id', idType, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('vin', 'varchar(17)')
    .addColumn('license_plate', 'varchar(255)')
    .addColumn('external_id', 'varchar(255)')
    .addColumn('make', 'varchar(255)')
    .addColumn('model', 'varchar(255)')
    .addColumn('year', 'integer')
    .addColumn('archived_at', time)
    .addColumn('is_sample', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', time, (c) => c.notNull().defaultTo(now))
    .addUniqueConstraint('vehicles_account_name_unique', ['account_id', 'name'])
    .execute()
  await db.schema.createIndex('vehicles_account_id_idx').on('vehicles').columns(['account_id', 'id']).execute()

  await db.schema
    .createTable('fault_rules')
    .addColumn('id', idType, id)
    .addColumn('account_id', idType, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('code', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('description', 'text')
    .addColumn('priority_handling', 'varchar(16)', (c) => c.check(sql`priority_handling in ('off', 'ignore', 'critical')`))
    .addColumn('is_sample', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', time, (c) => c.notNull().defaultTo(now))
    .addUniqueConstraint('fault_rules_account_code_unique', ['account_id', 'code'])
    .execute()
  await db.schema.createIndex('fault_rules_account_id_idx').on('fault_rules').columns(['account_id', 'id']).execute()

  await db.schema
    .createTable('faults')
    .addColumn('id', idType, id)
    .addColumn('account_id', idType, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('vehicle_id', idType, (c) => c.notNull().references('vehicles.id').onDelete('cascade'))
    // A rule in use cannot be deleted (409): NO ACTION raises the foreign-key violation on both engines.
    .addColumn('fault_rule_id', idType, (c) => c.references('fault_rules.id'))
    .addColumn('code', 'varchar(255)', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('description', 'text')
    .addColumn('external_id', 'varchar(255)')
    .addColumn('last_occurred_at', time, (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql`status in ('open', 'resolved', 'ignored')`))
    .addColumn('source', 'varchar(255)')
    .addColumn('is_sample', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('idempotency_key', 'varchar(255)')
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', time, (c) => c.notNull().defaultTo(now))
    .execute()
  // Each sortable column and the common equality filters lead with the tenant, ending in id for keyset ties.
  for (const columns of [
    ['account_id', 'id'],
    ['account_id', 'status', 'id'],
    ['account_id', 'vehicle_id', 'id'],
    ['account_id', 'fault_rule_id', 'id'],
    ['account_id', 'last_occurred_at', 'id'],
    ['account_id', 'created_at', 'id'],
    ['account_id', 'updated_at', 'id'],
  ]) {
    await db.schema
      .createIndex(`faults_${columns.slice(1, -1).join('_') || 'account'}_idx`)
      .on('faults')
      .columns(columns)
      .execute()
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['faults', 'fault_rules', 'vehicles']) await db.schema.dropTable(table).execute()
}
