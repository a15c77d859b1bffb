// The importer's HTTP client: API-key headers, JSON bodies, and retries that honour Retry-After.
// 429 and 503 wait as long as the server says; 409 (Idempotency-Key still in use), 500/502/504 and
// network failures retry with exponential backoff, a bounded number of times. Every other answer is
// returned to the caller, who decides what is fatal.
import { ImportError } from './records.js'

export interface RetryPolicy {
  /** Tries for network failures, 409 and 5xx other than 503, the first included. */
  attempts: number
  /** Tries while the server answers 429 or 503 (rate limit, maintenance, overload). */
  rateLimitedAttempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** A Retry-After longer than this is cut to it (maintenance answers 120 s). */
  maxRetryAfterMs: number
  requestTimeoutMs: number
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 8,
  rateLimitedAttempts: 100,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 15 * 60_000,
  requestTimeoutMs: 120_000,
}

export interface ApiResponse {
  status: number
  headers: Headers
  body: unknown
  url: string
}

export interface ClientOptions {
  baseUrl: string
  apiKey: string
  accountToken: string
  retry?: Partial<RetryPolicy>
  signal?: AbortSignal
  /** Told before every wait, e.g. to show "429, retrying in 2 s". */
  onRetry?: (reason: string, delayMs: number) => void
}

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done, fail) => {
    if (signal?.aborted) return fail(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      done()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      fail(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

const backoffStatuses = new Set([409, 500, 502, 504])

export class ApiClient {
  readonly baseUrl: string
  private readonly policy: RetryPolicy

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '')
    this.policy = { ...defaultRetryPolicy, ...options.retry }
  }

  /** Sends a request, retrying what is worth retrying; `path` is absolute or relative to the server. */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const url = new URL(path, `${this.baseUrl}/`).toString()
    let failures = 0
    let waits = 0
    for (;;) {
      let reason: string
      let delay = this.backoff(failures)
      try {
        const response = await this.once(method, url, body, headers)
        const asked = retryAfterMs(response.headers.get('retry-after'))
        if (response.status === 429 || response.status === 503) {
          if (++waits >= this.policy.rateLimitedAttempts) return response
          delay = asked ?? this.backoff(waits - 1)
        } else if (backoffStatuses.has(response.status)) {
          if (++failures >= this.policy.attempts) return response
          delay = asked ?? delay
        } else return response
        reason = `${method} ${new URL(url).pathname} answered ${response.status}`
      } catch (error) {
        if (this.options.signal?.aborted) throw error
        if (++failures >= this.policy.attempts) {
          throw new ImportError(`${method} ${url} failed ${failures} times: ${describe(error)}`)
        }
        reason = `${method} ${new URL(url).pathname} failed (${describe(error)})`
      }
      delay = Math.min(delay, this.policy.maxRetryAfterMs)
      this.options.onRetry?.(reason, delay)
      await sleep(delay, this.options.signal)
    }
  }

  private backoff(failures: number): number {
    const exponential = this.policy.baseDelayMs * 2 ** failures
    return Math.min(this.policy.maxDelayMs, exponential * (0.75 + Math.random() / 2))
  }

  private async once(method: string, url: string, body: unknown, headers: Record<string, string>): Promise<ApiResponse> {
    const timeout = AbortSignal.timeout(this.policy.requestTimeoutMs)
    const response = await fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        authorization: `Token ${this.options.apiKey}`,
        'account-token': this.options.accountToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout,
    })
    const text = await response.text()
    let parsed: unknown = text
    if (/json/.test(response.headers.get('content-type') ?? '') && text !== '') parsed = JSON.parse(text)
    return { status: response.status, headers: response.headers, body: parsed, url }
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error)
}
