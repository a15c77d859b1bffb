// The credential checks the auth plugin runs: API keys (+ Account-Token) and OAuth access tokens.
import type { Kysely } from 'kysely'
import { type DB, toIso } from '../../db/schema.js'
import type { Principal } from '../../http/access.js'
import { CURRENT_API_VERSION } from '../../http/api-version.js'
import type { Credentials } from '../../http/auth.js'
import { hashSecret } from './credentials.js'
import { findActiveClient, findKeyWithMembership, touchKey } from './credentials.repository.js'
import type { TokenService } from './tokens.js'

/** last_used_at is written at most this often per key: a read must not cost a write each time. */
const LAST_USED_RESOLUTION_MS = 60_000

export function identityCredentials(db: Kysely<DB>, tokens: TokenService): Credentials {
  return {
    async apiKey(key, accountToken) {
      const row = await findKeyWithMembership(db, hashSecret(key), accountToken)
      if (!row) return null
      const now = Date.now()
      if (row.lastUsedAt === null || now - Date.parse(toIso(row.lastUsedAt)) > LAST_USED_RESOLUTION_MS) {
        await touchKey(db, row.keyId, new Date(now).toISOString())
      }
      // Without Account-Token the call acts in no account, a bound key's too: its membership was read only to check it holds.
      const named = accountToken !== undefined
      const principal: Principal = {
        kind: 'key',
        userId: row.userId,
        accountId: named ? (row.accountId ?? null) : null,
        boundAccountId: row.boundAccountId,
        role: named ? (row.role ?? null) : null,
        scopes: null,
        apiVersion: row.apiVersion,
      }
      return principal
    },
    async accessToken(token) {
      const claims = await tokens.verify(token)
      if (!claims) return null
      const client = await findActiveClient(db, claims.clientId)
      if (!client || client.accountId !== claims.accountId) return null
      return {
        kind: 'bearer',
        userId: null,
        accountId: client.accountId,
        boundAccountId: null,
        role: null,
        scopes: claims.scopes,
        apiVersion: CURRENT_API_VERSION,
        expiresAt: claims.expiresAt,
        clientId: claims.clientId,
      }
    },
  }
}
