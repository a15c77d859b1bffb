// Two replicas on one PostgreSQL and one Redis: one rate budget, one record per Idempotency-Key,
// each reads what the other wrote, and a key revoked on one stops working on the other at once. (SQLite is the single-process engine, so this is PostgreSQL only.)
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { engine } from './helpers/app.js'
import { cliAccount, processDatabase, type Server, startServer } from './helpers/process.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const QUOTA = 60

describe('two replicas on one PostgreSQL and one Redis', { skip: engine !== 'postgres' && 'replicas need PostgreSQL' }, () => {
  let database: Awaited<ReturnType<typeof processDatabase>>
  let replicas: Server[] = []
  let headers: Record<string, string>
  let vehicleId: number

  const call = async (server: Server, method: string, path: string, body?: object, extra: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...headers, ...extra, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null }
  }

  before(async () => {
    database = await processDatabase()
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `replicas-${randomBytes(4).toString('hex')}:`,
      RATE_LIMIT_QUOTA: String(QUOTA),
      // Long enough that only the other replica's notice can explain a revocation seen within the test.
      CREDENTIALS_CACHE_SECONDS: '300',
    }
    headers = (await cliAccount(env, 'Replicated', 'replicas@example.com')).headers
    // Both start (and migrate) at the same moment.
    replicas = await Promise.all([startServer(env), startServer(env)])
  })
  after(async () => {
    for (const replica of replicas) await replica.stop('SIGTERM')
    await database.drop()
  })

  it('lets each replica read what the other wrote', async () => {
    const [a, b] = replicas as [Server, Server]
    const vehicle = await call(a, 'POST', '/api/v1/vehicles', { name: 'Shared truck' })
    assert.equal(vehicle.status, 201)
    vehicleId = vehicle.body.id
    const seen = await call(b, 'GET', `/api/v1/vehicles/${vehicleId}`)
    assert.equal(seen.status, 200)
    assert.deepEqual(seen.body, vehicle.body)
    assert.equal((await call(b, 'POST', '/api/v1/fault_rules', { code: 'P0300' })).status, 201)
    const fault = await call(a, 'POST', '/api/v1/faults', { vehicle_id: vehicleId, code: 'P0300' })
    assert.equal(fault.status, 201)
    assert.equal((await call(b, 'PATCH', `/api/v1/faults/${fault.body.id}`, { status: 'resolved' })).status, 204)
    assert.equal((await call(a, 'GET', `/api/v1/faults/${fault.body.id}`)).body.status, 'resolved')
    const listed = await call(b, 'GET', '/api/v1/faults')
    assert.deepEqual(
      listed.body.records.map((record: { id: number }) => record.id),
      [fault.body.id],
    )
  })

  it('creates exactly one record for one Idempotency-Key sent to both at once', async () => {
    const [a, b] = replicas as [Server, Server]
    for (let round = 0; round < 5; round++) {
      const key = `both-${round}-${randomBytes(4).toString('hex')}`
      const body = { vehicle_id: vehicleId, code: 'P0300', external_id: key }
      const outcomes = await Promise.all(
        [a, b, a, b].map((server) => call(server, 'POST', '/api/v1/faults', body, { 'idempotency-key': key })),
      )
      const statuses = outcomes.map((outcome) => outcome.status)
      assert.equal(statuses.filter((status) => status === 201).length, 1, statuses.join(','))
      assert.ok(
        statuses.every((status) => [200, 201, 409].includes(status)),
        statuses.join(','),
      )
      const matching = await call(a, 'GET', `/api/v1/faults?filter[external_id][eq]=${key}`)
      assert.equal(matching.body.records.length, 1)
    }
  })

  it('stops a key revoked on one replica on the other at once, though the other had it cached', async () => {
    const [a, b] = replicas as [Server, Server]
    const made = await call(a, 'POST', '/api/v1/api_keys', { name: 'short-lived' })
    assert.equal(made.status, 201)
    const keyHeaders = { authorization: `Token ${made.body.api_key}` }
    assert.equal((await call(b, 'GET', '/api/v1/users/me', undefined, keyHeaders)).status, 200)
    assert.equal((await call(b, 'GET', '/api/v1/users/me', undefined, keyHeaders)).status, 200)
    assert.equal((await call(a, 'DELETE', `/api/v1/api_keys/${made.body.id}`)).status, 204)
    // The notice travels through PostgreSQL after the commit: allow it a moment, far below the cache's 300 s.
    const deadline = Date.now() + 2000
    let status = 200
    while (status === 200 && Date.now() < deadline) {
      status = (await call(b, 'GET', '/api/v1/users/me', undefined, keyHeaders)).status
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(status, 401)
  })

  it('counts one rate budget for the account across both replicas', async () => {
    const [a, b] = replicas as [Server, Server]
    const first = await call(a, 'GET', '/api/v1/vehicles')
    const remaining = Number(/r=(\d+)/.exec(String(first.headers.get('ratelimit')))?.[1])
    assert.equal(first.headers.get('ratelimit-policy'), `"default";q=${QUOTA};w=60`)
    let alternate = true
    let lastStatus = 200
    for (let sent = 0; sent < remaining; sent++) {
      const response = await call(alternate ? b : a, 'GET', '/api/v1/vehicles')
      lastStatus = response.status
      alternate = !alternate
    }
    assert.equal(lastStatus, 200)
    const refused = await Promise.all([call(a, 'GET', '/api/v1/vehicles'), call(b, 'GET', '/api/v1/vehicles')])
    for (const response of refused) {
      assert.equal(response.status, 429)
      assert.ok(Number(response.headers.get('retry-after')) >= 1)
    }
  })
})
