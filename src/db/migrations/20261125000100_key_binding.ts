// A key an admin makes for another member is bound to the account it was made in: it acts there and
// nowhere else, so an admin cannot borrow a member's standing in the member's other accounts. A key a
// user makes for themself keeps account_id null and acts in all their accounts. Frozen: never import app code here.
import { type Kysely, PostgresAdapter } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter
  await db.schema
    .alterTable('api_keys')
    .addColumn('account_id', pg ? 'bigint' : 'integer', (c) => c.references('accounts.id').onDelete('cascade'))
    .execute()
  // An admin's list of the keys bound to their account pages by id; the account's deletion cascades through it.
  await db.schema.createIndex('api_keys_account_idx').on('api_keys').columns(['account_id', 'id']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('api_keys_account_idx').execute()
  await db.schema.alterTable('api_keys').dropColumn('account_id').execute()
}
