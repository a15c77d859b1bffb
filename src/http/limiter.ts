// Fixed-window counters (rate-limiter-flexible): in this process, or in Redis shared by replicas.
import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible'

export interface WindowState {
  limit: number
  remaining: number
  /** Seconds until the window resets. */
  resetSeconds: number
}

export interface Counter {
  /** Counts one event for `key`; tells what is left. `exceeded` once more than `limit` were counted. */
  hit(key: string): Promise<WindowState & { exceeded: boolean }>
  /** What is left for `key` without counting. */
  peek(key: string): Promise<WindowState>
}

export function createCounter(options: { prefix: string; limit: number; windowSeconds: number; redis?: Redis }): Counter {
  const settings = { keyPrefix: options.prefix, points: options.limit, duration: options.windowSeconds }
  const limiter = options.redis ? new RateLimiterRedis({ ...settings, storeClient: options.redis }) : new RateLimiterMemory(settings)
  const state = (result: RateLimiterRes | null): WindowState => ({
    limit: options.limit,
    remaining: Math.max(0, options.limit - (result?.consumedPoints ?? 0)),
    resetSeconds: Math.max(1, Math.ceil((result?.msBeforeNext ?? options.windowSeconds * 1000) / 1000)),
  })
  return {
    async hit(key) {
      try {
        return { ...state(await limiter.consume(key)), exceeded: false }
      } catch (rejection) {
        if (rejection instanceof Error) throw rejection
        return { ...state(rejection as RateLimiterRes), exceeded: true }
      }
    },
    async peek(key) {
      return state(await limiter.get(key))
    },
  }
}
