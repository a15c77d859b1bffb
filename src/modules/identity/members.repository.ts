// Accounts, users and memberships: who belongs to which account, in which role.
import type { Kysely, Transaction } from 'kysely'
import { type DB, toIso } from '../../db/schema.js'
import type { Role } from '../../http/access.js'
import { CURRENT_API_VERSION } from '../../http/api-version.js'
import { issueAccountToken, issueApiKey } from './credentials.js'
import type { User } from './identity.schemas.js'

// Full table names, no aliases: list specs name these columns, and paginate() types the query by the database's tables.
// Names come from the membership, never from users: each account sees only what it wrote itself.
const memberColumns = [
  'users.id',
  'users.email',
  'memberships.first_name',
  'memberships.last_name',
  'memberships.role',
  'memberships.created_at',
] as const

export function toUser(row: {
  id: number
  email: string
  first_name: string | null
  last_name: string | null
  role: Role | null
  created_at: Date | string
}): User {
  return { ...row, created_at: toIso(row.created_at) }
}

/** The members of an account, as a query the caller pages through. */
export function membersQuery(db: Kysely<DB>, accountId: number) {
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(memberColumns)
    .where('memberships.account_id', '=', accountId)
}

export async function findMember(db: Kysely<DB>, accountId: number, userId: number) {
  return membersQuery(db, accountId).where('users.id', '=', userId).executeTakeFirst()
}

/** The user as the user sees themself: the names they were created with (no account's names for them). */
export async function findUser(db: Kysely<DB>, userId: number) {
  return db.selectFrom('users').select(['id', 'email', 'first_name', 'last_name', 'created_at']).where('id', '=', userId).executeTakeFirst()
}

/** The accounts a user belongs to, with the role in each; only `boundTo` for a key bound to that account. */
export function accountsOfUserQuery(db: Kysely<DB>, userId: number, boundTo: number | null) {
  const query = db
    .selectFrom('memberships')
    .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
    .select(['accounts.id', 'accounts.name', 'accounts.account_token', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
  return boundTo === null ? query : query.where('memberships.account_id', '=', boundTo)
}

export interface NewUser {
  email: string
  first_name?: string | undefined
  last_name?: string | undefined
}

export interface NewMember extends NewUser {
  role: Role
}

/**
 * The user with this email, created if new, and only their id: nothing another account wrote about
 * an existing user comes back. Emails are compared case-insensitively.
 */
export async function findOrCreateUser(trx: Transaction<DB>, input: NewUser): Promise<number> {
  const email = input.email.toLowerCase()
  const existing = await trx.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()
  if (existing) return existing.id
  const now = new Date().toISOString()
  const created = await trx
    .insertInto('users')
    .values({ email, first_name: input.first_name ?? null, last_name: input.last_name ?? null, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow()
  return created.id
}

/**
 * Adds a membership with this account's names for the member; throws the driver's unique violation
 * when the user is already a member.
 */
export async function addMembership(trx: Transaction<DB>, accountId: number, userId: number, member: NewMember): Promise<void> {
  const now = new Date().toISOString()
  await trx
    .insertInto('memberships')
    .values({
      account_id: accountId,
      user_id: userId,
      role: member.role,
      first_name: member.first_name ?? null,
      last_name: member.last_name ?? null,
      created_at: now,
      updated_at: now,
    })
    .execute()
}

/** Serializes admin changes of one account (PostgreSQL row lock; SQLite has one writer anyway). */
export async function lockAccount(trx: Transaction<DB>, accountId: number, engine: 'sqlite' | 'postgres'): Promise<void> {
  const query = trx.selectFrom('accounts').select('id').where('id', '=', accountId)
  await (engine === 'postgres' ? query.forUpdate() : query).execute()
}

export async function countAdmins(trx: Transaction<DB>, accountId: number): Promise<number> {
  const row = await trx
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('admins'))
    .where('account_id', '=', accountId)
    .where('role', '=', 'admin')
    .executeTakeFirstOrThrow()
  return Number(row.admins)
}

export async function setRole(trx: Transaction<DB>, accountId: number, userId: number, role: Role): Promise<void> {
  await trx
    .updateTable('memberships')
    .set({ role, updated_at: new Date().toISOString() })
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .execute()
}

export async function removeMembership(trx: Transaction<DB>, accountId: number, userId: number): Promise<void> {
  await trx.deleteFrom('memberships').where('account_id', '=', accountId).where('user_id', '=', userId).execute()
}

export interface CreatedAccount {
  account: { id: number; name: string; account_token: string }
  user: { id: number; email: string }
  api_key: string
}

/** A new account, its first admin (found or created by email) and an API key for that admin. */
export async function createAccount(trx: Transaction<DB>, input: { name: string } & NewUser): Promise<CreatedAccount> {
  const now = new Date().toISOString()
  const account = await trx
    .insertInto('accounts')
    .values({ name: input.name, account_token: issueAccountToken(), created_at: now, updated_at: now })
    .returning(['id', 'name', 'account_token'])
    .executeTakeFirstOrThrow()
  const userId = await findOrCreateUser(trx, input)
  await addMembership(trx, account.id, userId, { ...input, role: 'admin' })
  const key = issueApiKey()
  await trx
    .insertInto('api_keys')
    .values({
      user_id: userId,
      name: 'first key',
      prefix: key.prefix,
      key_hash: key.hash,
      api_version: CURRENT_API_VERSION,
      created_at: now,
    })
    .execute()
  return { account, user: { id: userId, email: input.email.toLowerCase() }, api_key: key.secret }
}
