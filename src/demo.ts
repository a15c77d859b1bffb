// The first run's demo: on the embedded default with an empty database, an account to try the API with.
import type { Kysely } from 'kysely'
import type { DB } from './db/schema.js'
import { type CreatedAccount, createAccount } from './modules/identity/members.repository.js'

export const DEMO_EMAIL = 'demo@fleet-faults.local'

/** Creates the demo account when there is no account at all; null when the database is not empty. */
export async function seedDemo(db: Kysely<DB>): Promise<CreatedAccount | null> {
  return db.transaction().execute(async (trx) => {
    const any = await trx.selectFrom('accounts').select('id').limit(1).executeTakeFirst()
    if (any) return null
    return createAccount(trx, { name: 'Demo Fleet', email: DEMO_EMAIL, first_name: 'Demo', last_name: 'User' })
  })
}

export function demoBanner(address: string, demo: CreatedAccount): string {
  return [
    'A demo account was created (shown once; `fleet-faults accounts create` makes more):',
    `  Account-Token: ${demo.account.account_token}`,
    `  API key:       ${demo.api_key}`,
    '  First call:',
    `    curl -s ${address}/api/v1/users/me -H "Authorization: Token ${demo.api_key}" -H "Account-Token: ${demo.account.account_token}"`,
  ].join('\n')
}
