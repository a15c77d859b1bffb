// Minimal typings for the parts of autocannon 8 (which ships no .d.ts) that the bench harness uses.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  namespace autocannon {
    type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS'

    interface Client extends EventEmitter {
      setHeaders(headers: Record<string, string>): void
      setBody(body: string | Buffer): void
      setHeadersAndBody(headers: Record<string, string>, body: string | Buffer): void
    }

    interface RequestParams {
      method?: HttpMethod
      path?: string
      headers?: Record<string, string>
      body?: string | Buffer
    }

    interface Request extends RequestParams {
      /** Return the (possibly modified) request, or a falsy value to restart the sequence. */
      setupRequest?: (req: RequestParams, context: Record<string, unknown>) => RequestParams | undefined
      onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void
    }

    interface Options extends RequestParams {
      url: string
      connections?: number
      duration?: number | string
      amount?: number
      pipelining?: number
      timeout?: number
      bailout?: number
      title?: string
      requests?: Request[]
      setupClient?: (client: Client) => void
      idReplacement?: boolean
    }

    /** Histogram summary; autocannon 8 fills p0_001 … p99_999 (keys built from hdr-histogram-percentiles-obj). */
    interface Histogram {
      average: number
      mean: number
      stddev: number
      min: number
      max: number
      total?: number
      p50: number
      p90: number
      /** Present in autocannon 8; optional so callers keep a fallback for other versions. */
      p97_5?: number
      p99?: number
      [percentile: `p${string}`]: number | undefined
    }

    interface Result {
      title?: string
      url: string
      connections: number
      pipelining: number
      duration: number
      samples: number
      start: Date
      finish: Date
      errors: number
      timeouts: number
      mismatches: number
      non2xx: number
      resets: number
      '1xx': number
      '2xx': number
      '3xx': number
      '4xx': number
      '5xx': number
      statusCodeStats: Record<string, { count: number }>
      latency: Histogram & { totalCount: number }
      requests: Histogram & { sent: number }
      throughput: Histogram
    }

    /** The promise form returns an EventEmitter that is also thenable. */
    type Instance = EventEmitter & PromiseLike<Result> & { stop(): void }
  }

  function autocannon(opts: autocannon.Options): autocannon.Instance
  export = autocannon
}
