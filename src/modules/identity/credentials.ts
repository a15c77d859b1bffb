// Secrets: random (192-256 bits), shown once, stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto'

/** A high-entropy secret needs no slow hash: SHA-256 makes the stored value useless to a thief. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

export interface IssuedKey {
  secret: string
  prefix: string
  hash: string
}

/** `ffk_` + 32 base64url chars (192 bits); the first 12 characters are shown in lists. */
export function issueApiKey(): IssuedKey {
  const secret = `ffk_${randomBytes(24).toString('base64url')}`
  return { secret, prefix: secret.slice(0, 12), hash: hashSecret(secret) }
}

export function issueClientCredentials(): { clientId: string; secret: string; hash: string } {
  const secret = `ffs_${randomBytes(32).toString('base64url')}`
  return { clientId: `ffc_${randomBytes(12).toString('hex')}`, secret, hash: hashSecret(secret) }
}

/** Account tokens pick an account; they are identifiers, not secrets, but still unguessable. */
export function issueAccountToken(): string {
  return randomBytes(12).toString('hex')
}
