// Tenant isolation (CONTRACT §1): another account's vehicles, rules and faults answer exactly like ids that never existed.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Scope } from '../../src/http/access.js'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { bearerToken, makeAccount, makeClient, type TestAccount } from '../helpers/factories.js'
import { makeFault, makeRule, makeVehicle } from '../helpers/fleet.js'

type Injected = Awaited<ReturnType<TestApp['app']['inject']>>
type Headers = Record<string, string>
type Method = 'GET' | 'PATCH' | 'DELETE'

const MISSING = 999_999_999
const ALL_SCOPES: Scope[] = ['faults:read', 'faults:write', 'vehicles:read', 'vehicles:write', 'fault_rules:read', 'fault_rules:write']
/** A valid PATCH body per resource, so only the id decides the answer. */
const patches: Record<string, object> = {
  vehicles: { name: 'Hijacked' },
  fault_rules: { name: 'Hijacked' },
  faults: { status: 'resolved' },
}

/** What a client sees of a response, less what differs per request: date, request id (and the instance carrying it), quota left. */
function visible(response: Injected) {
  const { date: _date, 'x-request-id': _id, ratelimit: _left, ...headers } = response.headers
  const { instance: _instance, ...body } = response.json()
  return { status: response.statusCode, headers, body }
}

interface Tenant {
  account: TestAccount
  ids: Record<string, number>
  code: string
  vehicleName: string
}

describe(`isolation between accounts (${engine})`, () => {
  let t: TestApp
  let a: Tenant
  let b: Tenant
  let bearerA: Headers
  /** B's resources as B sees them (body and ETag) before A tries anything. */
  const snapshot: Record<string, { body: string; etag: unknown }> = {}

  async function tenant(name: string): Promise<Tenant> {
    const account = await makeAccount(t.app, name)
    const vehicle = await makeVehicle(t.app, account.accountId, { name: `${name} truck` })
    await makeVehicle(t.app, account.accountId, { name: `${name} van` })
    const rule = await makeRule(t.app, account.accountId, { code: `${name}-P0420` })
    const fault = await makeFault(t.app, account.accountId, { vehicle_id: vehicle.id, code: rule.code })
    return { account, ids: { vehicles: vehicle.id, fault_rules: rule.id, faults: fault.id }, code: rule.code, vehicleName: vehicle.name }
  }

  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000', RATE_LIMIT_QUOTA: '100000' } })
    a = await tenant('A')
    b = await tenant('B')
    bearerA = { authorization: `Bearer ${await bearerToken(t.app, await makeClient(t.app, a.account, ALL_SCOPES))}` }
    for (const [resource, id] of Object.entries(b.ids)) {
      const response = await t.app.inject({ url: `/api/v1/${resource}/${id}`, headers: b.account.headers })
      assert.equal(response.statusCode, 200, response.body)
      snapshot[resource] = { body: response.body, etag: response.headers.etag }
    }
  })
  after(() => t.close())

  const send = (method: Method | 'POST', url: string, headers: Headers, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })

  for (const resource of ['vehicles', 'fault_rules', 'faults']) {
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      it(`answers ${method} /${resource}/<B's id> from A exactly like a missing id (key and bearer)`, async () => {
        for (const headers of [a.account.headers, bearerA]) {
          const payload = method === 'PATCH' ? patches[resource] : undefined
          const foreign = await send(method, `/api/v1/${resource}/${b.ids[resource]}`, headers, payload)
          const missing = await send(method, `/api/v1/${resource}/${MISSING}`, headers, payload)
          expectProblem(foreign, 404)
          expectProblem(missing, 404)
          assert.deepEqual(visible(foreign), visible(missing))
        }
      })
    }

    it(`answers 404 for B's /${resource} id with B's ETag (If-None-Match, If-Match) and in HAL`, async () => {
      const url = `/api/v1/${resource}/${b.ids[resource]}`
      const etag = String(snapshot[resource]?.etag)
      expectProblem(await send('GET', url, { ...a.account.headers, 'if-none-match': etag }), 404)
      expectProblem(await send('GET', url, { ...a.account.headers, accept: 'application/hal+json' }), 404)
      expectProblem(await send('PATCH', url, { ...a.account.headers, 'if-match': etag }, patches[resource]), 404)
      expectProblem(await send('DELETE', url, { ...a.account.headers, 'if-match': etag }), 404)
    })

    it(`lists only A's ${resource}`, async () => {
      const response = await send('GET', `/api/v1/${resource}?per_page=100`, a.account.headers)
      assert.equal(response.statusCode, 200, response.body)
      const records = response.json().records as Array<{ id: number; account_id: number }>
      assert.ok(records.length > 0)
      assert.ok(records.every((record) => record.account_id === a.account.accountId))
      assert.equal(
        records.some((record) => record.id === b.ids[resource]),
        false,
      )
    })
  }

  it("answers 404, not 409, for B's rule in use, so existence does not leak", async () => {
    const response = await send('DELETE', `/api/v1/fault_rules/${b.ids.fault_rules}`, a.account.headers)
    assert.deepEqual(visible(response), visible(await send('DELETE', `/api/v1/fault_rules/${MISSING}`, a.account.headers)))
  })

  it("finds none of A's faults by B's vehicle or rule id", async () => {
    for (const filter of [`vehicle_id][eq]=${b.ids.vehicles}`, `fault_rule_id][include]=${b.ids.fault_rules}`]) {
      const response = await send('GET', `/api/v1/faults?filter[${filter}`, a.account.headers)
      assert.equal(response.statusCode, 200, response.body)
      assert.deepEqual(response.json().records, [])
    }
  })

  it("rejects B's cursor in A's list with 400", async () => {
    const page = await send('GET', '/api/v1/vehicles?per_page=1', b.account.headers)
    const cursor = String(page.json().next_cursor)
    const response = await send('GET', `/api/v1/vehicles?per_page=1&start_cursor=${cursor}`, a.account.headers)
    assert.equal(expectProblem(response, 400, '/problems/invalid-parameter').parameter, 'start_cursor')
  })

  it("answers 422 for a fault on B's vehicle (must exist) or with B's rule code (no fault rule), each and together", async () => {
    const post = (payload: object) => send('POST', '/api/v1/faults', a.account.headers, payload)
    const vehicleMissing = { vehicle_id: ['must exist'] }
    const codeMissing = { code: ['must correspond with an existing fault rule'] }
    const cases: Array<[object, Record<string, string[]>]> = [
      [{ vehicle_id: b.ids.vehicles, code: a.code }, vehicleMissing],
      [{ vehicle_id: a.ids.vehicles, code: b.code }, codeMissing],
      [
        { vehicle_id: b.ids.vehicles, code: b.code },
        { ...vehicleMissing, ...codeMissing },
      ],
    ]
    for (const [payload, errors] of cases) {
      assert.deepEqual(expectProblem(await post(payload), 422, '/problems/validation-error').errors, errors)
    }
    assert.equal((await post({ vehicle_id: a.ids.vehicles, code: a.code })).statusCode, 201, 'the same shape with A ids is valid')
  })

  it("lets A reuse B's vehicle name and rule code: uniqueness is per account", async () => {
    assert.equal((await send('POST', '/api/v1/vehicles', a.account.headers, { name: b.vehicleName })).statusCode, 201)
    assert.equal((await send('POST', '/api/v1/fault_rules', a.account.headers, { code: b.code })).statusCode, 201)
  })

  it("leaves B's records exactly as they were", async () => {
    for (const [resource, id] of Object.entries(b.ids)) {
      const response = await send('GET', `/api/v1/${resource}/${id}`, b.account.headers)
      assert.equal(response.statusCode, 200, `${resource} ${id} still exists`)
      assert.deepEqual([response.body, response.headers.etag], [snapshot[resource]?.body, snapshot[resource]?.etag])
    }
    const faults = await send('GET', '/api/v1/faults', b.account.headers)
    assert.deepEqual(
      faults.json().records.map((fault: { id: number }) => fault.id),
      [b.ids.faults],
    )
  })
})
