// Rate-limit header fields (IETF draft "RateLimit header fields for HTTP", CONTRACT §8) and the
// per-account check. Counting is rate-limiter-flexible's (./limiter.ts); only the format is ours.
import type { FastifyReply } from 'fastify'
import type { Principal } from './access.js'
import type { Counter, WindowState } from './limiter.js'
import { Problem, problemTypes } from './problem.js'

export interface Quota {
  counter: Counter
  limit: number
  windowSeconds: number
}

/** `RateLimit-Policy: "<name>";q=<quota>;w=<window>` and `RateLimit: "<name>";r=<remaining>;t=<reset>`. */
export function setRateLimitHeaders(
  reply: FastifyReply,
  name: string,
  quota: Pick<Quota, 'limit' | 'windowSeconds'>,
  state: WindowState,
): void {
  reply.header('RateLimit-Policy', `"${name}";q=${quota.limit};w=${quota.windowSeconds}`)
  reply.header('RateLimit', `"${name}";r=${state.remaining};t=${state.resetSeconds}`)
}

/** Counts an authenticated request for its account (the seed: "from your account token"); 429 over quota. */
export async function enforceAccountQuota(reply: FastifyReply, principal: Principal, quota: Quota): Promise<void> {
  // Key-only calls made without an account (GET /users/me, /accounts) count for their user.
  const key = principal.accountId !== null ? `account:${principal.accountId}` : `user:${principal.userId}`
  const state = await quota.counter.hit(key)
  setRateLimitHeaders(reply, 'default', quota, state)
  if (state.exceeded) {
    throw new Problem(
      problemTypes.rateLimited,
      `This account used its ${quota.limit} requests for this ${quota.windowSeconds}-second window.`,
      {
        headers: { 'Retry-After': String(state.resetSeconds) },
        extensions: { 'violated-policies': ['default'] },
      },
    )
  }
}
