// The Redis client for state replicas share (rate-limit counters). Commands fail fast while it is down,
// so callers can fall back instead of queueing; it reconnects by itself.
import { Redis } from 'ioredis'

/** A check waits at most this long for Redis before the in-process fallback answers. */
const COMMAND_TIMEOUT_MS = 500

export function createRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    // Keep trying, at most every 2 s, for as long as the server runs.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  })
}
