// Names belong to the membership: each account keeps its own for a member, so what one account's admin
// wrote is never shown to, or changed by, another account. Frozen: never import app code here.
import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('memberships').addColumn('first_name', 'varchar(255)').execute()
  await db.schema.alterTable('memberships').addColumn('last_name', 'varchar(255)').execute()
  // Existing members keep the names their accounts saw until now.
  await sql`update memberships set
    first_name = (select users.first_name from users where users.id = memberships.user_id),
    last_name = (select users.last_name from users where users.id = memberships.user_id)`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('memberships').dropColumn('last_name').execute()
  await db.schema.alterTable('memberships').dropColumn('first_name').execute()
}
