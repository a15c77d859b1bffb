// The queries behind authentication: one indexed lookup per credential, whatever its state.
import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'

/**
 * A live key by hash, with the user's membership in the account the token names (null when none),
 * or, without a token, in the account the key is bound to. A bound key is found only within its own
 * account and only while its user is a member there: with any other token it is not found at all.
 */
export async function findKeyWithMembership(db: Kysely<DB>, keyHash: string, accountToken: string | undefined) {
  return db
    .selectFrom('api_keys as k')
    .leftJoin('accounts as a', (join) =>
      accountToken === undefined ? join.onRef('a.id', '=', 'k.account_id') : join.on('a.account_token', '=', accountToken),
    )
    .leftJoin('memberships as m', (join) => join.onRef('m.user_id', '=', 'k.user_id').onRef('m.account_id', '=', 'a.id'))
    .select([
      'k.id as keyId',
      'k.user_id as userId',
      'k.account_id as boundAccountId',
      'k.api_version as apiVersion',
      'k.last_used_at as lastUsedAt',
    ])
    .select(['m.account_id as accountId', 'm.role as role'])
    .where('k.key_hash', '=', keyHash)
    .where('k.revoked_at', 'is', null)
    .where((eb) => eb.or([eb('k.account_id', 'is', null), eb('k.account_id', '=', eb.ref('m.account_id'))]))
    .executeTakeFirst()
}

export async function touchKey(db: Kysely<DB>, keyId: number, at: string): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', keyId).execute()
}

export async function findActiveClient(db: Kysely<DB>, clientId: string) {
  return db
    .selectFrom('oauth_clients')
    .select(['id', 'account_id as accountId', 'secret_hash as secretHash', 'scopes'])
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
}
