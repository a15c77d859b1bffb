// The migration that gives each membership its own names keeps the names every account saw before it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Kysely, type Migration, Migrator } from 'kysely'
import { createDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { migrations } from '../../src/db/migrations/index.js'
import type { DB } from '../../src/db/schema.js'
import { engine, freshDatabaseUrl } from '../helpers/app.js'

describe(`migration 20261124000100_member_names (${engine})`, () => {
  it("copies each user's names to every membership they have, and nothing else", async () => {
    const fresh = await freshDatabaseUrl()
    const database = createDatabase({ DATABASE_URL: fresh.url, SQLITE_SYNCHRONOUS: 'NORMAL' })
    try {
      const db = database.db as Kysely<DB>
      const provider = { getMigrations: async (): Promise<Record<string, Migration>> => migrations }
      const before = await new Migrator({ db, provider }).migrateTo('20261122000500_bulk_jobs')
      if (before.error) throw before.error

      const now = new Date().toISOString()
      const times = { created_at: now, updated_at: now }
      const accounts = await db
        .insertInto('accounts')
        .values(['a', 'b'].map((name) => ({ name, account_token: `token-${name}`, ...times })))
        .returning('id')
        .execute()
      const users = await db
        .insertInto('users')
        .values([
          { email: 'named@example.com', first_name: 'Ada', last_name: 'Lovelace', ...times },
          { email: 'bare@example.com', first_name: null, last_name: null, ...times },
        ])
        .returning('id')
        .execute()
      const [named, bare] = users.map((user) => user.id)
      const rows = accounts.flatMap((account) => users.map((user) => ({ account_id: account.id, user_id: user.id })))
      // Written without the new columns, as the old code did.
      await db
        .insertInto('memberships')
        .values(rows.map((row) => ({ ...row, role: 'viewer' as const, ...times })))
        .execute()

      await migrateToLatest(db)
      const members = await db.selectFrom('memberships').select(['user_id', 'first_name', 'last_name']).execute()
      assert.equal(members.length, 4)
      for (const member of members) {
        const expected = member.user_id === named ? ['Ada', 'Lovelace'] : [null, null]
        assert.ok(member.user_id === named || member.user_id === bare)
        assert.deepEqual([member.first_name, member.last_name], expected)
      }
    } finally {
      await database.close()
      await fresh.drop()
    }
  })
})
