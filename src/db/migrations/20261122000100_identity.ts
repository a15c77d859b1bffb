// Accounts, users, memberships, API keys and OAuth clients. Frozen: never import app code here.
import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter
  const id = (col: ColumnDefinitionBuilder) => (pg ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement())
  const idType = pg ? 'bigint' : 'integer'
  const time = pg ? 'timestamptz' : 'text'
  const now = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`

  await db.schema
    .createTable('accounts')
    .addColumn('id', idType, id)
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('account_token', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', time, (c) => c.notNull().defaultTo(now))
    .execute()

  await db.schema
    .createTable('users')
    .addColumn('id', idType, id)
    .addColumn('email', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('first_name', 'varchar(255)')
    .addColumn('last_name', 'varchar(255)')
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', time, (c) => c.notNull().defaultTo(now))
    .execute()

  await db.schema
    .createTable('memberships')
    .addColumn('id', idType, id)
    .addColumn('account_id', idType, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', idType, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'varchar(16)', (c) => c.notNull().check(sql`role in ('admin', 'editor', 'viewer')`))
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', time, (c) => c.notNull().defaultTo(now))
    .addUniqueConstraint('memberships_account_user_unique', ['account_id', 'user_id'])
    .execute()
  await db.schema.createIndex('memberships_user_idx').on('memberships').column('user_id').execute()

  await db.schema
    .createTable('api_keys')
    .addColumn('id', idType, id)
    .addColumn('user_id', idType, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)')
    .addColumn('prefix', 'varchar(32)', (c) => c.notNull())
    .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('api_version', 'varchar(10)', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('last_used_at', time)
    .addColumn('revoked_at', time)
    .execute()
  await db.schema.createIndex('api_keys_user_idx').on('api_keys').columns(['user_id', 'id']).execute()

  await db.schema
    .createTable('oauth_clients')
    .addColumn('id', idType, id)
    .addColumn('account_id', idType, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_by_user_id', idType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('client_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('scopes', 'varchar(1024)', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull().defaultTo(now))
    .addColumn('revoked_at', time)
    .execute()
  await db.schema.createIndex('oauth_clients_account_idx').on('oauth_clients').columns(['account_id', 'id']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['oauth_clients', 'api_keys', 'memberships', 'users', 'accounts']) {
    await db.schema.dropTable(table).execute()
  }
}
