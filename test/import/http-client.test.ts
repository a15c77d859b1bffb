// The importer's HTTP client against a tiny local server: Retry-After on 429 and 503, backoff on 409,
// 5xx and dropped connections, bounded attempts, and the credentials on every request.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { ApiClient, retryAfterMs } from '../../src/import/http-client.js'
import { ImportError } from '../../src/import/records.js'

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void

/** A server answering each request with the next handler of `script` (the last one repeats). */
async function scripted(
  ...script: Handler[]
): Promise<{ url: string; seen: { at: number; headers: IncomingMessage['headers']; body: string }[] }> {
  const seen: { at: number; headers: IncomingMessage['headers']; body: string }[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      seen.push({ at: Date.now(), headers: request.headers, body })
      const handler = script[Math.min(seen.length - 1, script.length - 1)]
      handler?.(request, response, body)
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  after(
    () =>
      new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      }),
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const answer =
  (status: number, headers: Record<string, string> = {}, body: unknown = { ok: status }): Handler =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers })
    response.end(JSON.stringify(body))
  }

const drop: Handler = (request) => request.socket.destroy()

function client(url: string, retries: { reason: string; delayMs: number }[] = []): ApiClient {
  return new ApiClient({
    baseUrl: `${url}/api/v1/`,
    apiKey: 'ffk_secret',
    accountToken: 'acct123',
    retry: { baseDelayMs: 20, maxDelayMs: 100, attempts: 3, rateLimitedAttempts: 3 },
    onRetry: (reason, delayMs) => retries.push({ reason, delayMs }),
  })
}

describe('import HTTP client', () => {
  it('waits out a 429 for the Retry-After it names, then returns the 202', async () => {
    const server = await scripted(answer(429, { 'retry-after': '1' }), answer(202, { 'content-location': '/api/v1/bulk_api_jobs/1' }))
    const retries: { reason: string; delayMs: number }[] = []
    const response = await client(server.url, retries).request(
      'POST',
      '/api/v1/bulk_api_jobs',
      { records: [] },
      { 'idempotency-key': 'k1' },
    )
    assert.equal(response.status, 202)
    assert.deepEqual(response.body, { ok: 202 })
    assert.equal(server.seen.length, 2)
    const [first, second] = server.seen
    assert.ok(first && second)
    assert.ok(second.at - first.at >= 950, `waited ${second.at - first.at} ms`)
    assert.deepEqual(retries, [{ reason: 'POST /api/v1/bulk_api_jobs answered 429', delayMs: 1000 }])
    for (const { headers, body } of server.seen) {
      assert.equal(headers.authorization, 'Token ffk_secret')
      assert.equal(headers['account-token'], 'acct123')
      assert.equal(headers['idempotency-key'], 'k1', 'the same key on the retry')
      assert.equal(headers['content-type'], 'application/json')
      assert.equal(body, '{"records":[]}')
    }
  })

  it('waits out a 503 with Retry-After as an HTTP date too', async () => {
    // An HTTP date has whole seconds: 2.5 s ahead is at least 1.5 s once truncated, which leaves room for
    // the server to start and the request to arrive before the 400 ms the test asks to have been waited.
    const server = await scripted(answer(503, { 'retry-after': new Date(Date.now() + 2500).toUTCString() }), answer(200))
    const response = await client(server.url).request('GET', '/api/v1/bulk_api_jobs/1')
    assert.equal(response.status, 200)
    assert.equal(server.seen.length, 2)
    const [first, second] = server.seen
    assert.ok(first && second && second.at - first.at >= 400)
  })

  it('retries 409 (key in use) and a dropped connection with backoff', async () => {
    const server = await scripted(answer(409, { 'retry-after': '0' }), drop, answer(202))
    const retries: { reason: string; delayMs: number }[] = []
    const response = await client(server.url, retries).request('POST', '/api/v1/bulk_api_jobs', {})
    assert.equal(response.status, 202)
    assert.equal(retries.length, 2)
    assert.match(retries[1]?.reason ?? '', /failed/)
  })

  it('returns other answers at once, without retrying', async () => {
    const server = await scripted(answer(422, {}, { title: 'Validation failed', status: 422 }))
    const response = await client(server.url).request('POST', '/api/v1/bulk_api_jobs', {})
    assert.equal(response.status, 422)
    assert.equal(server.seen.length, 1)
  })

  it('gives up after the attempts allowed: the last answer, or an ImportError when the server never answers', async () => {
    const busy = await scripted(answer(502))
    assert.equal((await client(busy.url).request('GET', '/x')).status, 502)
    assert.equal(busy.seen.length, 3)
    const limited = await scripted(answer(429, { 'retry-after': '0' }))
    assert.equal((await client(limited.url).request('GET', '/x')).status, 429)
    assert.equal(limited.seen.length, 3)
    const gone = await scripted(drop)
    await assert.rejects(
      client(gone.url).request('GET', '/x'),
      (error: unknown) => error instanceof ImportError && /failed 3 times/.test(error.message),
    )
  })

  it('reads Retry-After as seconds or a date, and ignores nonsense', () => {
    assert.equal(retryAfterMs('3'), 3000)
    assert.equal(retryAfterMs(' 0 '), 0)
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000)
    assert.equal(retryAfterMs('soon'), undefined)
    assert.equal(retryAfterMs(null), undefined)
  })
})
