// Roles and scopes on the fleet routes (CONTRACT §2, §11): who may read and write vehicles, fault rules and faults.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { Role, Scope } from '../../src/http/access.js'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { bearerToken, type Caller, makeAccount, makeClient, makeMember, type TestAccount } from '../helpers/factories.js'
import { makeFault, makeRule, makeVehicle } from '../helpers/fleet.js'

type Injected = Awaited<ReturnType<TestApp['app']['inject']>>
type Headers = Record<string, string>
type Resource = 'vehicles' | 'fault_rules' | 'faults'

const unique = () => randomBytes(4).toString('hex')
/** The least role that may write each resource; any member may read (CONTRACT §2). */
const writer: Record<Resource, Role> = { vehicles: 'editor', fault_rules: 'admin', faults: 'editor' }
const rank: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 }

function expectForbidden(response: Injected, detail: string) {
  const body = expectProblem(response, 403, '/problems/forbidden')
  assert.equal(body.title, 'Insufficient permissions')
  assert.equal(body.detail, detail)
  assert.equal(response.headers['cache-control'], 'no-store')
}

describe(`fleet access by role and scope (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  const callers = {} as Record<Role, Caller>
  /** One record of each resource, and the code of the rule the faults use. */
  const ids = {} as Record<Resource, number>
  let code: string

  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000', RATE_LIMIT_QUOTA: '100000' } })
    acme = await makeAccount(t.app, 'Acme')
    callers.admin = acme
    callers.editor = await makeMember(t.app, acme, 'editor')
    callers.viewer = await makeMember(t.app, acme, 'viewer')
    const vehicle = await makeVehicle(t.app, acme.accountId)
    const rule = await makeRule(t.app, acme.accountId)
    code = rule.code
    ids.vehicles = vehicle.id
    ids.fault_rules = rule.id
    ids.faults = (await makeFault(t.app, acme.accountId, { vehicle_id: vehicle.id, code })).id
  })
  after(() => t.close())

  const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Headers, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
  /** A valid create body of each resource; new names and codes each time. */
  const createBody = (resource: Resource): object =>
    resource === 'vehicles'
      ? { name: `Truck ${unique()}` }
      : resource === 'fault_rules'
        ? { code: `P${unique()}` }
        : { vehicle_id: ids.vehicles, code }
  const updateBody: Record<Resource, object> = {
    vehicles: { make: 'Changed' },
    fault_rules: { name: 'Changed' },
    faults: { status: 'resolved' },
  }
  const show = (resource: Resource, headers: Headers = acme.headers) => send('GET', `/api/v1/${resource}/${ids[resource]}`, headers)

  for (const resource of ['vehicles', 'fault_rules', 'faults'] as const) {
    for (const role of ['admin', 'editor', 'viewer'] as const) {
      const allowed = rank[role] >= rank[writer[resource]]

      it(`lets ${role} read ${resource} (list and show)`, async () => {
        const list = await send('GET', `/api/v1/${resource}`, callers[role].headers)
        assert.equal(list.statusCode, 200, list.body)
        assert.ok(list.json().records.some((record: { id: number }) => record.id === ids[resource]))
        const shown = await show(resource, callers[role].headers)
        assert.equal(shown.statusCode, 200, shown.body)
        assert.equal(shown.json().id, ids[resource])
      })

      it(`${allowed ? 'lets' : 'forbids'} ${role} ${allowed ? 'create' : 'to create'} ${resource}`, async () => {
        const response = await send('POST', `/api/v1/${resource}`, callers[role].headers, createBody(resource))
        if (allowed) {
          assert.equal(response.statusCode, 201, response.body)
          assert.equal(response.headers.location, `/api/v1/${resource}/${response.json().id}`)
          return
        }
        expectForbidden(response, `This action needs the ${writer[resource]} role; you are ${role}.`)
        assert.equal(response.headers['www-authenticate'], undefined, 'a key caller gets no bearer challenge')
      })
    }

    it(`forbids the roles below ${writer[resource]} to update or delete ${resource}, and changes nothing`, async () => {
      const original = await show(resource)
      for (const role of (['viewer', 'editor'] as const).filter((role) => rank[role] < rank[writer[resource]])) {
        const detail = `This action needs the ${writer[resource]} role; you are ${role}.`
        expectForbidden(await send('PATCH', `/api/v1/${resource}/${ids[resource]}`, callers[role].headers, updateBody[resource]), detail)
        expectForbidden(await send('DELETE', `/api/v1/${resource}/${ids[resource]}`, callers[role].headers), detail)
      }
      const unchanged = await show(resource)
      assert.deepEqual([unchanged.body, unchanged.headers.etag], [original.body, original.headers.etag])
    })
  }

  it('lets an editor update and delete vehicles and faults', async () => {
    const headers = callers.editor.headers
    const vehicle = (await send('POST', '/api/v1/vehicles', headers, createBody('vehicles'))).json()
    const fault = (await send('POST', '/api/v1/faults', headers, { vehicle_id: vehicle.id, code })).json()
    assert.equal((await send('PATCH', `/api/v1/faults/${fault.id}`, headers, { status: 'resolved' })).statusCode, 204)
    assert.equal((await send('DELETE', `/api/v1/faults/${fault.id}`, headers)).statusCode, 204)
    assert.equal((await send('PATCH', `/api/v1/vehicles/${vehicle.id}`, headers, { archived: true })).statusCode, 204)
    assert.equal((await send('DELETE', `/api/v1/vehicles/${vehicle.id}`, headers)).statusCode, 204)
  })

  describe('bearer tokens', () => {
    const bearer = async (scopes: Scope[], scope?: string) => ({
      authorization: `Bearer ${await bearerToken(t.app, await makeClient(t.app, acme, scopes), scope)}`,
    })
    const challenge = (scope: Scope) => `Bearer realm="fleet-faults", error="insufficient_scope", scope="${scope}"`

    it('with vehicles:read only: reads vehicles; 403 with an insufficient_scope challenge for anything else', async () => {
      const headers = await bearer(['vehicles:read'])
      assert.equal((await send('GET', '/api/v1/vehicles', headers)).statusCode, 200)
      assert.equal((await show('vehicles', headers)).statusCode, 200)
      const cases: Array<[Injected, Scope]> = [
        [await send('POST', '/api/v1/vehicles', headers, createBody('vehicles')), 'vehicles:write'],
        [await send('PATCH', `/api/v1/vehicles/${ids.vehicles}`, headers, updateBody.vehicles), 'vehicles:write'],
        [await send('DELETE', `/api/v1/vehicles/${ids.vehicles}`, headers), 'vehicles:write'],
        [await send('GET', '/api/v1/faults', headers), 'faults:read'],
        [await show('fault_rules', headers), 'fault_rules:read'],
      ]
      for (const [response, scope] of cases) {
        expectForbidden(response, `This token lacks the ${scope} scope.`)
        assert.equal(response.headers['www-authenticate'], challenge(scope))
      }
      assert.equal((await show('vehicles')).statusCode, 200, 'the vehicle is still there')
    })

    it('follows scopes, not roles: fault_rules:write creates rules; a token narrowed to read cannot write', async () => {
      const rules = await bearer(['fault_rules:write'])
      assert.equal((await send('POST', '/api/v1/fault_rules', rules, createBody('fault_rules'))).statusCode, 201)
      const narrowed = await bearer(['vehicles:read', 'vehicles:write'], 'vehicles:read')
      const response = await send('POST', '/api/v1/vehicles', narrowed, createBody('vehicles'))
      expectForbidden(response, 'This token lacks the vehicles:write scope.')
      assert.equal(response.headers['www-authenticate'], challenge('vehicles:write'))
    })
  })

  it('sends Cache-Control: no-store on every authenticated response, success or not', async () => {
    const headers = acme.headers
    const vehicle = (await send('POST', '/api/v1/vehicles', headers, createBody('vehicles'))).json()
    const url = `/api/v1/vehicles/${vehicle.id}`
    const etag = String((await send('GET', url, headers)).headers.etag)
    const responses: Array<[number, Injected]> = [
      [201, await send('POST', '/api/v1/vehicles', headers, createBody('vehicles'))],
      [200, await send('GET', '/api/v1/vehicles?per_page=1', headers)],
      [200, await send('GET', url, { ...headers, accept: 'application/hal+json' })],
      [304, await send('GET', url, { ...headers, 'if-none-match': etag })],
      [400, await send('GET', '/api/v1/vehicles?filter[color][eq]=red', headers)],
      [401, await send('GET', url, {})],
      [403, await send('POST', '/api/v1/fault_rules', callers.editor.headers, createBody('fault_rules'))],
      [404, await send('GET', '/api/v1/faults/999999999', headers)],
      [412, await send('PATCH', url, { ...headers, 'if-match': '"stale"' }, { make: 'x' })],
      [422, await send('POST', '/api/v1/vehicles', headers, { name: '' })],
      [204, await send('PATCH', url, headers, { make: 'x' })],
      [204, await send('DELETE', url, headers)],
    ]
    for (const [status, response] of responses) {
      assert.equal(response.statusCode, status, response.body)
      assert.equal(response.headers['cache-control'], 'no-store', `${status}`)
    }
  })
})
