// Authenticated encryption (AES-256-GCM) for what the server must keep for a while but never in the
// clear: a replayable create response can hold a secret that is shown once (an API key).
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto'

export interface Sealer {
  seal(plain: string): string
  open(sealed: string): string
}

const IV_BYTES = 12
/** Random IVs are cut from a buffer filled this many at a time: one call into the CSPRNG per 256 seals. */
const IVS_PER_FILL = 256

function ivSource(): () => Buffer {
  const pool = Buffer.alloc(IV_BYTES * IVS_PER_FILL)
  let offset = pool.length
  return () => {
    if (offset === pool.length) {
      randomFillSync(pool)
      offset = 0
    }
    // A copy: the pool is refilled in place later.
    const iv = Buffer.from(pool.subarray(offset, offset + IV_BYTES))
    offset += IV_BYTES
    return iv
  }
}

export function createSealer(secret: string): Sealer {
  const key = createHash('sha256').update(`fleet-faults sealing\n${secret}`).digest()
  const nextIv = ivSource()
  return {
    seal(plain) {
      const iv = nextIv()
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
    },
    open(sealed) {
      const raw = Buffer.from(sealed, 'base64url')
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES))
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + 16))
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + 16)), decipher.final()]).toString('utf8')
    },
  }
}
