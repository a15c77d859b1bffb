// Fixed-window counters (rate-limiter-flexible): in this process, or in Redis shared by replicas.
// With Redis, a failing store never fails a request: counting falls back to this process (fail open),
// is logged and counted, and returns to Redis as soon as it answers again.
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

export interface SharedStore {
  redis: Redis
  /** Called each time a check falls back to this process because Redis failed. */
  onFallback(): void
}

type Settings = { keyPrefix: string; points: number; duration: number }

/** The in-process limiter Redis falls back to; it reports every use, which only happens on failure. */
class FallbackLimiter extends RateLimiterMemory {
  constructor(
    settings: Settings,
    private readonly report: () => void,
  ) {
    super(settings)
  }

  override consume(...args: Parameters<RateLimiterMemory['consume']>) {
    this.report()
    return super.consume(...args)
  }

  override get(...args: Parameters<RateLimiterMemory['get']>) {
    this.report()
    return super.get(...args)
  }
}

export function createCounter(options: {
  prefix: string
  limit: number
  windowSeconds: number
  shared?: SharedStore | undefined
}): Counter {
  const settings: Settings = { keyPrefix: options.prefix, points: options.limit, duration: options.windowSeconds }
  const { shared } = options
  const limiter = shared
    ? new RateLimiterRedis({ ...settings, storeClient: shared.redis, insuranceLimiter: new FallbackLimiter(settings, shared.onFallback) })
    : new RateLimiterMemory(settings)
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
