// Principals remembered briefly per credential, so a read does not pay a credential lookup every time.
// Revocation stays immediate: a request that changes credentials empties the cache of every replica
// (here at once, elsewhere through the database's notifications), and a lookup that was in flight
// while that happened is not kept. CREDENTIALS_CACHE_SECONDS bounds staleness if a notice is lost.
import { createHash } from 'node:crypto'
import type { Principal } from './access.js'

/** Enough for every key of a large deployment; the oldest entry leaves first. */
const MAX_ENTRIES = 10_000

export interface PrincipalCache {
  /** The principal for a credential: remembered, or loaded and remembered (only valid ones are kept). */
  lookup(credential: string, load: () => Promise<Principal | null>): Promise<Principal | null>
  /** Forgets everything; lookups in flight are not kept. */
  invalidate(): void
}

interface Entry {
  principal: Principal
  expiresAt: number
}

export function createPrincipalCache(ttlSeconds: number, now: () => number = Date.now): PrincipalCache {
  const entries = new Map<string, Entry>()
  let generation = 0
  return {
    async lookup(credential, load) {
      if (ttlSeconds === 0) return load()
      // The map holds digests: a heap dump does not list the secrets that were used.
      const key = createHash('sha256').update(credential).digest('base64')
      const hit = entries.get(key)
      if (hit) {
        if (hit.expiresAt > now()) return hit.principal
        entries.delete(key)
      }
      const started = generation
      const principal = await load()
      if (principal && started === generation) {
        if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string)
        entries.set(key, { principal, expiresAt: Math.min(now() + ttlSeconds * 1000, principal.expiresAt ?? Number.POSITIVE_INFINITY) })
      }
      return principal
    },
    invalidate() {
      generation++
      entries.clear()
    },
  }
}
