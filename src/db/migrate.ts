// Applies the migration set (src/db/migrations) with Kysely's Migrator, on either engine.
import { type Kysely, type Migration, type MigrationResultSet, Migrator, PostgresAdapter, sql } from 'kysely'
import { migrations } from './migrations/index.js'

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped database
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async (): Promise<Record<string, Migration>> => migrations },
    // Kysely looks for its own tables in every schema; pin them to the one search_path selects.
    ...(db.getExecutor().adapter instanceof PostgresAdapter ? { migrationTableSchema: await currentSchema(db) } : {}),
  })
  const result = await migrator.migrateToLatest()
  if (result.error) throw result.error
  return result
}

async function currentSchema(db: Kysely<unknown>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  return rows[0]?.schema ?? 'public'
}
