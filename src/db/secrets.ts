// Secrets the server makes for itself (token signing, cursor signing): generated once, kept in the
// database, so they survive restarts (in the data directory with SQLite) and every replica shares them.
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { DB } from './schema.js'

export async function serverSecret(db: Kysely<DB>, name: string): Promise<string> {
  await db
    .insertInto('server_secrets')
    .values({ name, value: randomBytes(48).toString('base64url') })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute()
  const row = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow()
  return row.value
}
