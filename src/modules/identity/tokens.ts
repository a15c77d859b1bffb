// OAuth 2.0 access tokens: short-lived HS256 JWTs (jose) bound to one client, its account and scopes.
import { randomBytes } from 'node:crypto'
import { jwtVerify, SignJWT } from 'jose'
import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'
import { serverSecret } from '../../db/secrets.js'
import type { Scope } from '../../http/access.js'

const ISSUER = 'fleet-faults'
const AUDIENCE = 'fleet-faults-api'
const SECRET_NAME = 'token_signing_secret'

export interface AccessTokenClaims {
  clientId: string
  accountId: number
  scopes: Scope[]
  /** Expiry, ms since the epoch (set on verified tokens). */
  expiresAt?: number
}

export interface TokenService {
  ttlSeconds: number
  sign(claims: AccessTokenClaims): Promise<string>
  /** The claims of a valid, unexpired token signed by this server; null otherwise. */
  verify(token: string): Promise<AccessTokenClaims | null>
}

/** TOKEN_SIGNING_SECRET when configured, else the server's own, generated on first start. */
export async function loadSigningSecret(db: Kysely<DB>, configured: string | undefined): Promise<Uint8Array> {
  return new TextEncoder().encode(configured ?? (await serverSecret(db, SECRET_NAME)))
}

export function createTokenService(secret: Uint8Array, ttlSeconds: number): TokenService {
  return {
    ttlSeconds,
    async sign({ clientId, accountId, scopes }) {
      return new SignJWT({ acct: accountId, scope: scopes.join(' ') })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(clientId)
        .setIssuedAt()
        .setJti(randomBytes(12).toString('base64url'))
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(secret)
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, secret, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] })
        if (typeof payload.sub !== 'string' || typeof payload.acct !== 'number' || typeof payload.scope !== 'string') return null
        return {
          clientId: payload.sub,
          accountId: payload.acct,
          scopes: payload.scope.split(' ').filter(Boolean) as Scope[],
          expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
        }
      } catch {
        return null
      }
    },
  }
}
