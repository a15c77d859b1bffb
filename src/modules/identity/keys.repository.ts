// API keys (per user) and OAuth clients (per account): created with a secret shown once, revoked, listed.
import type { Kysely } from 'kysely'
import { type DB, toIso } from '../../db/schema.js'
import type { Scope } from '../../http/access.js'
import { issueApiKey, issueClientCredentials } from './credentials.js'
import type { ApiKey, OAuthClient } from './identity.schemas.js'

const keyColumns = [
  'api_keys.id',
  'api_keys.name',
  'api_keys.prefix',
  'api_keys.user_id',
  'api_keys.account_id',
  'api_keys.api_version',
  'api_keys.created_at',
  'api_keys.last_used_at',
] as const

export function toApiKey(row: {
  id: number
  name: string | null
  prefix: string
  user_id: number
  account_id: number | null
  api_version: string
  created_at: Date | string
  last_used_at: Date | string | null
}): ApiKey {
  return { ...row, created_at: toIso(row.created_at), last_used_at: toIso(row.last_used_at) }
}

/** Who looks at the keys of an account: the user, whether an admin there, and whether their own key is bound to it. */
export interface KeyViewer {
  userId: number
  admin: boolean
  bound: boolean
}

/**
 * Live keys visible in an account. A member sees all their own keys; an admin also those bound to the
 * account (made there for its members), never a member's own keys nor keys bound elsewhere. A caller
 * whose key is bound sees only keys bound to the account: a key made for someone cannot reach the
 * keys that someone made themself.
 */
export function keysQuery(db: Kysely<DB>, accountId: number, viewer: KeyViewer) {
  return db
    .selectFrom('api_keys')
    .select(keyColumns)
    .where('api_keys.revoked_at', 'is', null)
    .where((eb) => {
      const own = eb('api_keys.user_id', '=', viewer.userId)
      const boundHere = eb('api_keys.account_id', '=', accountId)
      if (viewer.bound) return viewer.admin ? boundHere : eb.and([own, boundHere])
      return viewer.admin ? eb.or([own, boundHere]) : own
    })
}

/** A key's owner, and the one account it acts in (null: all the owner's accounts). */
export interface KeyOwner {
  userId: number
  accountId: number | null
}

export async function createKey(db: Kysely<DB>, owner: KeyOwner, name: string | null, apiVersion: string) {
  const issued = issueApiKey()
  const row = await db
    .insertInto('api_keys')
    .values({
      user_id: owner.userId,
      account_id: owner.accountId,
      name,
      prefix: issued.prefix,
      key_hash: issued.hash,
      api_version: apiVersion,
      created_at: new Date().toISOString(),
    })
    .returning(['id', 'name', 'prefix', 'user_id', 'account_id', 'api_version', 'created_at', 'last_used_at'])
    .executeTakeFirstOrThrow()
  return { ...toApiKey(row), api_key: issued.secret }
}

export async function revokeKey(db: Kysely<DB>, keyId: number): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: new Date().toISOString() }).where('id', '=', keyId).execute()
}

export function toClient(row: { id: number; name: string; client_id: string; scopes: string; created_at: Date | string }): OAuthClient {
  return { ...row, scopes: row.scopes.split(' ') as Scope[], created_at: toIso(row.created_at) }
}

export function clientsQuery(db: Kysely<DB>, accountId: number) {
  return db
    .selectFrom('oauth_clients')
    .select(['id', 'name', 'client_id', 'scopes', 'created_at'])
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
}

export async function createClient(db: Kysely<DB>, accountId: number, createdBy: number | null, input: { name: string; scopes: Scope[] }) {
  const issued = issueClientCredentials()
  const scopes = [...new Set(input.scopes)]
  const row = await db
    .insertInto('oauth_clients')
    .values({
      account_id: accountId,
      created_by_user_id: createdBy,
      name: input.name,
      client_id: issued.clientId,
      secret_hash: issued.hash,
      scopes: scopes.join(' '),
      created_at: new Date().toISOString(),
    })
    .returning(['id', 'name', 'client_id', 'scopes', 'created_at'])
    .executeTakeFirstOrThrow()
  return { ...toClient(row), client_secret: issued.secret }
}

/** Revokes a live client of the account; false when there is none with that id. */
export async function revokeClient(db: Kysely<DB>, accountId: number, id: number): Promise<boolean> {
  const result = await db
    .updateTable('oauth_clients')
    .set({ revoked_at: new Date().toISOString() })
    .where('id', '=', id)
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}
