// Rate limits (CONTRACT §8): headers on every authenticated response, 429 with Retry-After, one budget
// per account shared through Redis, and fail-open while Redis is down, recovering when it returns.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { after, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { makeAccount, type TestAccount } from '../helpers/factories.js'

const apps: TestApp[] = []
async function appWith(env: Record<string, string>) {
  const t = await buildTestApp({ env })
  apps.push(t)
  return t
}

const get = (t: TestApp, account: TestAccount) => t.app.inject({ url: '/api/v1/vehicles', headers: account.headers })

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function startRedis(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'])
    child.on('error', reject)
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve(child)
    })
  })
}

async function fallbacks(t: TestApp): Promise<number> {
  const text = (await t.app.inject({ url: '/metrics' })).body
  const line = text.split('\n').find((row) => row.startsWith('fleet_faults_rate_limit_store_fallbacks_total'))
  return Number(line?.split(' ')[1] ?? 0)
}

const until = async (condition: () => Promise<boolean>, ms = 8000) => {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if (await condition()) return
  }
  throw new Error('condition not met in time')
}

describe(`rate limits (${engine})`, () => {
  after(async () => {
    for (const t of apps) await t.close()
  })

  it('carries RateLimit-Policy and RateLimit on every authenticated response, then 429 with Retry-After', async () => {
    const t = await appWith({ RATE_LIMIT_QUOTA: '3', RATE_LIMIT_WINDOW_SECONDS: '60' })
    const acme = await makeAccount(t.app)
    for (const remaining of [2, 1, 0]) {
      const response = await get(t, acme)
      assert.equal(response.statusCode, 200)
      assert.equal(response.headers['ratelimit-policy'], '"default";q=3;w=60')
      assert.match(String(response.headers.ratelimit), new RegExp(`^"default";r=${remaining};t=\\d+$`))
    }
    const limited = await get(t, acme)
    const body = expectProblem(limited, 429, '/problems/rate-limit-exceeded')
    assert.deepEqual(body['violated-policies'], ['default'])
    const retryAfter = Number(limited.headers['retry-after'])
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter))
    assert.match(String(limited.headers.ratelimit), /^"default";r=0;t=\d+$/)
    const other = await makeAccount(t.app)
    assert.equal((await get(t, other)).statusCode, 200, 'another account has its own budget')
  })

  it('reports the failed-authentication limit on 401s', async () => {
    const t = await appWith({ AUTH_FAILURE_LIMIT: '5' })
    const response = await t.app.inject({ url: '/api/v1/vehicles', headers: { authorization: 'Token nope' }, remoteAddress: '10.1.2.3' })
    expectProblem(response, 401, '/problems/authentication-required')
    assert.equal(response.headers['ratelimit-policy'], '"auth-failures";q=5;w=60')
    assert.match(String(response.headers.ratelimit), /^"auth-failures";r=4;t=\d+$/)
  })

  it('shares one budget between two servers on one Redis', async () => {
    const shared = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `shared-${Date.now()}:`, RATE_LIMIT_QUOTA: '4' }
    const first = await appWith(shared)
    const acme = await makeAccount(first.app)
    // The second server reads the same accounts: same database, other process state.
    const second = await appWith({ ...shared })
    const twin = await makeAccount(second.app)
    // Account ids match in both fresh databases, so one budget means the same Redis key.
    assert.equal(twin.accountId, acme.accountId)
    const statuses = []
    for (const [t, account] of [
      [first, acme],
      [second, twin],
      [first, acme],
      [second, twin],
      [first, acme],
    ] as const) {
      statuses.push((await get(t, account)).statusCode)
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 429])
  })

  it('keeps serving when Redis is unreachable, counting in the process, and says so in /metrics', async () => {
    const port = await freePort()
    const t = await appWith({ REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_QUOTA: '2' })
    const acme = await makeAccount(t.app)
    assert.equal((await get(t, acme)).statusCode, 200)
    assert.equal((await get(t, acme)).statusCode, 200)
    expectProblem(await get(t, acme), 429, '/problems/rate-limit-exceeded')
    assert.ok((await fallbacks(t)) >= 3)
  })

  it('returns to Redis when it comes back', async () => {
    const port = await freePort()
    let redis = await startRedis(port)
    const prefix = `recover-${Date.now()}:`
    const t = await appWith({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_QUOTA: '1000' })
    const acme = await makeAccount(t.app)
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 100 })
    client.on('error', () => {})
    try {
      await until(async () => (await get(t, acme)).statusCode === 200 && (await fallbacks(t)) === 0)
      await client.connect()
      assert.ok((await client.keys(`${prefix}*`)).length > 0, 'counted in Redis')
      redis.kill('SIGKILL')
      await new Promise((resolve) => redis.once('exit', resolve))
      const before = await fallbacks(t)
      assert.equal((await get(t, acme)).statusCode, 200, 'still serving')
      assert.ok((await fallbacks(t)) > before, 'fallback counted')
      redis = await startRedis(port)
      await until(async () => {
        const seen = await fallbacks(t)
        await get(t, acme)
        return (await fallbacks(t)) === seen
      })
      assert.ok((await client.keys(`${prefix}*`)).length > 0, 'counting in Redis again')
    } finally {
      client.disconnect()
      redis.kill('SIGKILL')
    }
  })
})
