// Idempotency-Key on creates (CONTRACT §7): replay, mismatch, in flight, malformed, expiry, races.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { Generated } from 'kysely'
import { serverSecret } from '../../src/db/secrets.js'
import { callerOf, createOnce, fingerprint, purgeExpiredKeys } from '../../src/http/idempotency.js'
import { sendCreated } from '../../src/http/representation.js'
import { createSealer } from '../../src/http/sealing.js'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { bearerToken, makeAccount, makeClient, type TestAccount } from '../helpers/factories.js'
import { makeRule, makeVehicle } from '../helpers/fleet.js'

describe(`Idempotency-Key (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let vehicleId: number
  before(async () => {
    t = await buildTestApp()
    acme = await makeAccount(t.app)
    vehicleId = (await makeVehicle(t.app, acme.accountId)).id
    await makeRule(t.app, acme.accountId, { code: 'P0420' })
    await makeRule(t.app, acme.accountId, { code: 'P0300', name: 'Random misfire', description: 'Cylinder misfire detected' })
  })
  after(() => t.close())

  const post = (payload: unknown, key?: string, account: TestAccount = acme, extra: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/faults',
      headers: { ...account.headers, ...(key === undefined ? {} : { 'idempotency-key': key }), ...extra },
      payload: payload as object,
    })
  const faultCount = async () =>
    Number(
      (
        await t.app.database.db
          .selectFrom('faults')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )

  it('replays a create with 200, the same Location and body, and Idempotent-Replayed: true', async () => {
    const first = await post({ vehicle_id: vehicleId, code: 'P0420', count: 2 }, 'replay-1')
    assert.equal(first.statusCode, 201)
    assert.equal(first.headers['idempotent-replayed'], undefined)
    assert.equal(first.json().idempotency_key, 'replay-1')
    const before = await faultCount()
    // The same payload with its keys in another order is the same request.
    const again = await post({ count: 2, code: 'P0420', vehicle_id: vehicleId }, 'replay-1')
    assert.equal(again.statusCode, 200)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.equal(again.headers.location, first.headers.location)
    assert.equal(again.headers.etag, first.headers.etag)
    assert.deepEqual(again.json(), first.json())
    assert.equal(await faultCount(), before, 'nothing written twice')
    const hal = await post({ vehicle_id: vehicleId, code: 'P0420', count: 2 }, 'replay-1', acme, { accept: 'application/hal+json' })
    assert.equal(hal.statusCode, 200)
    assert.equal(hal.json()._links.self.href, first.headers.location)
  })

  it('replays field for field a fault its rule named, of an archived vehicle, sent with an offset', async () => {
    const vehicle = await makeVehicle(t.app, acme.accountId)
    const archive = { method: 'PATCH' as const, url: `/api/v1/vehicles/${vehicle.id}`, headers: acme.headers, payload: { archived: true } }
    assert.equal((await t.app.inject(archive)).statusCode, 204)
    const payload = { vehicle_id: vehicle.id, code: 'P0300', last_occurred_at: '2024-02-29T23:59:59.5+05:30', description: 'raw' }
    const first = await post(payload, 'replay-archived')
    assert.equal(first.statusCode, 201)
    assert.notEqual(first.json().vehicle_archived_at, null)
    const again = await post(payload, 'replay-archived')
    assert.equal(again.statusCode, 200)
    assert.equal(again.body, first.body)
    assert.equal(again.headers.etag, first.headers.etag)
  })

  it('replays the stored outcome even when the request would fail now (its vehicle is gone)', async () => {
    const gone = await makeVehicle(t.app, acme.accountId)
    const first = await post({ vehicle_id: gone.id, code: 'P0420' }, 'gone-1')
    assert.equal(first.statusCode, 201)
    await t.app.database.db.deleteFrom('vehicles').where('id', '=', gone.id).execute()
    expectProblem(await post({ vehicle_id: gone.id, code: 'P0420' }), 422, '/problems/validation-error')
    const again = await post({ vehicle_id: gone.id, code: 'P0420' }, 'gone-1')
    assert.equal(again.statusCode, 200)
    assert.deepEqual(again.json(), first.json())
  })

  it('accepts the key as a Structured Field string too', async () => {
    const first = await post({ vehicle_id: vehicleId, code: 'P0420' }, '"sf-key-1"')
    assert.equal(first.statusCode, 201)
    assert.equal(first.json().idempotency_key, 'sf-key-1')
    assert.equal((await post({ vehicle_id: vehicleId, code: 'P0420' }, 'sf-key-1')).statusCode, 200)
  })

  it('answers the same key with another payload with 422 idempotency-key-reused, writing nothing', async () => {
    assert.equal((await post({ vehicle_id: vehicleId, code: 'P0420' }, 'reused-1')).statusCode, 201)
    const before = await faultCount()
    const reused = await post({ vehicle_id: vehicleId, code: 'P0420', count: 5 }, 'reused-1')
    const body = expectProblem(reused, 422, '/problems/idempotency-key-reused')
    assert.equal(body.title, 'Idempotency key reused')
    assert.equal(await faultCount(), before)
  })

  it('replays only to the OAuth client that sent the original; another client of the account gets 422', async () => {
    const payload = { vehicle_id: vehicleId, code: 'P0420', count: 3 }
    const tokens = await Promise.all(
      [1, 2].map(async () => bearerToken(t.app, await makeClient(t.app, acme, ['faults:read', 'faults:write']))),
    )
    const asClient = (token: string) => ({ authorization: `Bearer ${token}`, 'account-token': '' })
    const first = await post(payload, 'client-key-1', acme, asClient(tokens[0] as string))
    assert.equal(first.statusCode, 201, first.body)
    const again = await post(payload, 'client-key-1', acme, asClient(tokens[0] as string))
    assert.equal(again.statusCode, 200)
    assert.equal(again.json().id, first.json().id)
    expectProblem(await post(payload, 'client-key-1', acme, asClient(tokens[1] as string)), 422, '/problems/idempotency-key-reused')
  })

  it('answers a malformed key with 400 naming the header', async () => {
    for (const key of ['', 'x'.repeat(256), 'tab\there', 'bell\u0007', '""']) {
      const response = await post({ vehicle_id: vehicleId, code: 'P0420' }, key)
      const body = expectProblem(response, 400, '/problems/invalid-parameter')
      assert.equal(body.parameter, 'Idempotency-Key', JSON.stringify(key))
    }
    assert.equal((await post({ vehicle_id: vehicleId, code: 'P0420' }, 'k'.repeat(255))).statusCode, 201)
  })

  it('frees the key when the request fails, so a corrected retry runs', async () => {
    const failed = await post({ vehicle_id: vehicleId, code: 'NOPE' }, 'fix-1')
    expectProblem(failed, 422, '/problems/validation-error')
    const fixed = await post({ vehicle_id: vehicleId, code: 'P0420' }, 'fix-1')
    assert.equal(fixed.statusCode, 201)
  })

  it('scopes keys to the account', async () => {
    const globex = await makeAccount(t.app)
    const globexVehicle = await makeVehicle(t.app, globex.accountId)
    await makeRule(t.app, globex.accountId, { code: 'P0420' })
    assert.equal((await post({ vehicle_id: vehicleId, code: 'P0420' }, 'shared-1')).statusCode, 201)
    const other = await post({ vehicle_id: globexVehicle.id, code: 'P0420' }, 'shared-1', globex)
    assert.equal(other.statusCode, 201)
    assert.equal(other.json().account_id, globex.accountId)
  })

  it('forgets a key after it expires: the same key then creates anew, and the purge deletes expired keys', async () => {
    const db = t.app.database.db
    const first = await post({ vehicle_id: vehicleId, code: 'P0420' }, 'expiry-1')
    await db
      .updateTable('idempotency_keys')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('key', '=', 'expiry-1')
      .execute()
    const second = await post({ vehicle_id: vehicleId, code: 'P0420', count: 3 }, 'expiry-1')
    assert.equal(second.statusCode, 201)
    assert.notEqual(second.json().id, first.json().id)
    await db
      .updateTable('idempotency_keys')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('key', '=', 'expiry-1')
      .execute()
    assert.ok((await purgeExpiredKeys(db)) >= 1)
    const left = await db.selectFrom('idempotency_keys').select('key').where('key', '=', 'expiry-1').execute()
    assert.equal(left.length, 0)
  })

  it('purges expired keys in batches, and only expired ones', async () => {
    const db = t.app.database.db
    const keys = Array.from({ length: 7 }, (_, n) => `purge-${n}`)
    for (const key of [...keys, 'purge-kept']) assert.equal((await post({ vehicle_id: vehicleId, code: 'P0420' }, key)).statusCode, 201)
    await db
      .updateTable('idempotency_keys')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('key', 'in', keys)
      .execute()
    // 7 expired keys, 3 a statement: three statements, the last one short.
    assert.equal(await purgeExpiredKeys(db, new Date(), 3), 7)
    const left = await db.selectFrom('idempotency_keys').select('key').where('key', 'like', 'purge-%').execute()
    assert.deepEqual(
      left.map((row) => row.key),
      ['purge-kept'],
    )
    assert.equal(await purgeExpiredKeys(db, new Date(), 3), 0)
  })

  it('creates exactly one record when the same key arrives many times at once', async () => {
    const before = await faultCount()
    const responses = await Promise.all(Array.from({ length: 8 }, () => post({ vehicle_id: vehicleId, code: 'P0420', count: 4 }, 'race-1')))
    const statuses = responses.map((response) => response.statusCode)
    assert.equal(statuses.filter((status) => status === 201).length, 1, statuses.join(','))
    assert.ok(
      statuses.every((status) => status === 201 || status === 200 || status === 409),
      statuses.join(','),
    )
    assert.equal(await faultCount(), before + 1)
  })

  it('works the same for vehicles and fault rules', async () => {
    for (const [url, payload] of [
      ['/api/v1/vehicles', { name: 'Idem truck' }],
      ['/api/v1/fault_rules', { code: 'IDEM1' }],
    ] as const) {
      const send = () => t.app.inject({ method: 'POST', url, headers: { ...acme.headers, 'idempotency-key': `res-${url}` }, payload })
      const first = await send()
      assert.equal(first.statusCode, 201, first.body)
      const again = await send()
      assert.equal(again.statusCode, 200)
      assert.equal(again.headers['idempotent-replayed'], 'true')
      assert.deepEqual(again.json(), first.json())
    }
  })
})

/**
 * A keyed create that waits at a gate the test opens: a request that stays in flight as long as the test
 * wants. It writes a row of its own table, so a test can see whether anything was written.
 */
function gatedRoutes(gate: { opened: Promise<void>; reached: () => void }) {
  return async (app: FastifyInstance) => {
    const pg = app.database.engine === 'postgres'
    const db = app.database.db.withTables<{ gated_things: { id: Generated<number>; account_id: number } }>()
    await db.schema
      .createTable('gated_things')
      .addColumn('id', pg ? 'bigint' : 'integer', (c) =>
        pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
      )
      .addColumn('account_id', 'integer', (c) => c.notNull())
      .execute()
    app.post('/test/gated-things', { config: { permission: 'faults:write', idempotent: true } }, async (request, reply) => {
      gate.reached()
      await gate.opened
      const linksOf = (thing: { id: number }) => ({ self: `/test/gated-things/${thing.id}` })
      const thing = await createOnce(
        app.database.db,
        request,
        (writer) =>
          (writer as unknown as typeof db)
            .insertInto('gated_things')
            .values({ account_id: request.accountId })
            .returning('id')
            .executeTakeFirstOrThrow(),
        linksOf,
      )
      return sendCreated(request, reply, thing, linksOf(thing))
    })
  }
}

describe(`Idempotency-Key while the first request is in flight (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let open: () => void
  let reached: Promise<void>
  const gate = {
    opened: Promise.resolve(),
    reached: () => {},
  }
  /** Closes the gate: the next gated request stops there until open() is called. */
  const closeGate = () => {
    gate.opened = new Promise((resolve) => {
      open = resolve
    })
    reached = new Promise((resolve) => {
      gate.reached = resolve
    })
  }
  before(async () => {
    t = await buildTestApp({ extend: gatedRoutes(gate) })
    acme = await makeAccount(t.app)
  })
  after(() => t.close())

  const post = (payload: object, key: string) =>
    t.app.inject({ method: 'POST', url: '/test/gated-things', headers: { ...acme.headers, 'idempotency-key': key }, payload })
  const things = async () =>
    (await t.app.database.db.withTables<{ gated_things: { id: number } }>().selectFrom('gated_things').select('id').execute()).length

  it('answers a twin 409 idempotency-key-in-use with Retry-After (another payload 422), then replays the outcome', async () => {
    closeGate()
    const first = post({ n: 1 }, 'busy-1')
    await reached
    const busy = await post({ n: 1 }, 'busy-1')
    const body = expectProblem(busy, 409, '/problems/idempotency-key-in-use')
    assert.equal(body.title, 'Idempotency key in use')
    assert.match(String(busy.headers['retry-after']), /^\d+$/)
    expectProblem(await post({ n: 2 }, 'busy-1'), 422, '/problems/idempotency-key-reused')
    assert.equal(await things(), 0, 'the twins wrote nothing')
    open()
    const created = await first
    assert.equal(created.statusCode, 201, created.body)
    const replayed = await post({ n: 1 }, 'busy-1')
    assert.equal(replayed.statusCode, 200)
    assert.equal(replayed.headers['idempotent-replayed'], 'true')
    assert.deepEqual(replayed.json(), created.json())
    assert.equal(await things(), 1)
  })

  it('fails a write whole with 409 when a twin recorded the key first (another replica), then replays that outcome', async () => {
    closeGate()
    const first = post({ n: 3 }, 'twin-1')
    await reached
    // Meanwhile another replica, which this process cannot see holding the key, completes the same request.
    const elsewhere = { resource: { id: 999 }, links: { self: '/test/gated-things/999' } }
    await t.app.database.db
      .insertInto('idempotency_keys')
      .values({
        account_id: acme.accountId,
        key: 'twin-1',
        fingerprint: fingerprint(callerOf({ userId: acme.userId }), 'POST', '/test/gated-things', { n: 3 }),
        response_body: createSealer(await serverSecret(t.app.database.db, 'idempotency_sealing_secret')).seal(JSON.stringify(elsewhere)),
        location: elsewhere.links.self,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      })
      .execute()
    const before = await things()
    open()
    const lost = await first
    expectProblem(lost, 409, '/problems/idempotency-key-in-use')
    assert.equal(await things(), before, 'the losing write was rolled back with its record')
    const replayed = await post({ n: 3 }, 'twin-1')
    assert.equal(replayed.statusCode, 200)
    assert.deepEqual(replayed.json(), elsewhere.resource)
    assert.equal(replayed.headers.location, elsewhere.links.self)
  })
})

describe(`Idempotency-Key on identity creates (${engine})`, () => {
  it('replays users, API keys and OAuth clients, the secret included but never stored in the clear', async () => {
    const t = await buildTestApp()
    try {
      const acme = await makeAccount(t.app)
      for (const [url, payload] of [
        ['/api/v1/users', { email: 'idem@example.com', role: 'viewer' }],
        ['/api/v1/api_keys', { name: 'idem' }],
        ['/api/v1/oauth_clients', { name: 'idem', scopes: ['faults:read'] }],
      ] as const) {
        const send = () =>
          t.app.inject({ method: 'POST', url, headers: { ...acme.headers, 'idempotency-key': `identity-${url}` }, payload })
        const first = await send()
        assert.equal(first.statusCode, 201, first.body)
        const again = await send()
        assert.equal(again.statusCode, 200, again.body)
        assert.equal(again.headers['idempotent-replayed'], 'true')
        assert.deepEqual(again.json(), first.json())
      }
      const stored = await t.app.database.db.selectFrom('idempotency_keys').select('response_body').execute()
      const secrets = (await t.app.database.db.selectFrom('api_keys').select('prefix').execute()).map((row) => row.prefix)
      for (const row of stored) {
        assert.doesNotMatch(String(row.response_body), /ffk_|ffs_|idem@example/, 'stored outcomes are sealed')
        for (const prefix of secrets) assert.ok(!String(row.response_body).includes(prefix))
      }
    } finally {
      await t.close()
    }
  })
})

describe('the fingerprint of a keyed request', () => {
  const print = (body: unknown, path = '/api/v1/faults') => fingerprint('user:1', 'POST', path, body)
  it('is the same for the same payload in any key order, nested objects included', () => {
    const body = { b: 1, a: 'x', c: { z: [1, { y: 2, x: null }], w: true } }
    assert.equal(print(body), print({ c: { w: true, z: [1, { x: null, y: 2 }] }, a: 'x', b: 1 }))
    assert.equal(print({ b: 2, a: 1 }), print({ a: 1, b: 2 }))
  })
  it('differs for another value, nesting, path or caller, but not for the query string', () => {
    const base = print({ a: 1, b: [1, 2] })
    assert.notEqual(base, print({ a: 2, b: [1, 2] }))
    assert.notEqual(base, print({ a: 1, b: [2, 1] }), 'array order is meaningful')
    assert.notEqual(base, print({ a: 1, b: { 0: 1, 1: 2 } }))
    assert.notEqual(base, print({ a: 1, b: [1, 2] }, '/api/v1/vehicles'))
    assert.equal(base, print({ a: 1, b: [1, 2] }, '/api/v1/faults?x=1'), 'the query is not part of it')
    assert.notEqual(base, fingerprint('user:2', 'POST', '/api/v1/faults', { a: 1, b: [1, 2] }), 'another caller')
  })
})
