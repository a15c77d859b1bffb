// Faults (the seed's Create Fault, CONTRACT §1, §4-§6, §9): fields, rule semantics, validation, lists.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { makeAccount, type TestAccount } from '../helpers/factories.js'
import { makeFault, makeRule, makeVehicle } from '../helpers/fleet.js'
import { tampered } from '../helpers/requests.js'

const SEED_FIELDS = [
  'id',
  'created_at',
  'updated_at',
  'account_id',
  'vehicle_id',
  'code',
  'count',
  'description',
  'external_id',
  'last_occurred_at',
  'name',
  'status',
  'source',
  'vehicle_archived_at',
  'fault_rule_id',
  'is_sample',
  'idempotency_key',
]
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe(`faults (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let vehicleId: number
  before(async () => {
    t = await buildTestApp()
    acme = await makeAccount(t.app)
    vehicleId = (await makeVehicle(t.app, acme.accountId, { name: 'Truck 7' })).id
    await makeRule(t.app, acme.accountId, { code: 'P0300', name: 'Random misfire', description: 'Cylinder misfire detected' })
    await makeRule(t.app, acme.accountId, { code: 'P0420' })
    await makeRule(t.app, acme.accountId, { code: 'U0100', priority_handling: 'ignore' })
  })
  after(() => t.close())

  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/api/v1/faults', headers: { ...acme.headers, ...headers }, payload: payload as object })
  const request = (method: 'GET' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({
      method,
      url,
      headers: { ...acme.headers, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    })

  describe('create', () => {
    it('answers 201 with Location, ETag and the Fault field for field, with the defaults', async () => {
      const before = Date.now()
      const response = await post({ vehicle_id: vehicleId, code: 'P0420' })
      assert.equal(response.statusCode, 201)
      const fault = response.json()
      assert.deepEqual(Object.keys(fault), SEED_FIELDS)
      assert.equal(response.headers.location, `/api/v1/faults/${fault.id}`)
      assert.match(String(response.headers.etag), /^"[^"]+"$/)
      assert.equal(fault.account_id, acme.accountId)
      assert.equal(fault.vehicle_id, vehicleId)
      assert.equal(fault.count, 1)
      assert.equal(fault.status, 'open')
      assert.equal(fault.source, 'api')
      assert.equal(fault.is_sample, false)
      assert.equal(fault.idempotency_key, null)
      assert.equal(fault.vehicle_archived_at, null)
      assert.equal(fault.description, null)
      assert.equal(fault.name, null)
      for (const field of ['created_at', 'updated_at', 'last_occurred_at']) assert.match(fault[field], ISO)
      assert.ok(Date.parse(fault.last_occurred_at) >= before - 1000)
      const shown = await request('GET', response.headers.location as string)
      assert.deepEqual(shown.json(), fault)
      assert.equal(shown.headers.etag, response.headers.etag)
    })

    it('stores what is sent, normalising last_occurred_at to UTC', async () => {
      const response = await post({
        vehicle_id: vehicleId,
        code: 'P0420',
        count: 3,
        description: 'seen on the highway',
        external_id: 'ext-1',
        last_occurred_at: '2023-03-14T13:46:27-06:00',
        name: 'Catalyst below threshold',
        status: 'resolved',
        source: 'geotab',
      })
      assert.equal(response.statusCode, 201)
      const fault = response.json()
      assert.equal(fault.count, 3)
      assert.equal(fault.description, 'seen on the highway')
      assert.equal(fault.external_id, 'ext-1')
      assert.equal(fault.last_occurred_at, '2023-03-14T19:46:27.000Z')
      assert.equal(fault.name, 'Catalyst below threshold')
      assert.equal(fault.status, 'resolved')
      assert.equal(fault.source, 'geotab')
    })

    it("lets the matched rule set fault_rule_id and replace name and description when the rule's are not empty", async () => {
      const fault = (await post({ vehicle_id: vehicleId, code: 'P0300', name: 'from telematics', description: 'raw text' })).json()
      assert.equal(fault.name, 'Random misfire')
      assert.equal(fault.description, 'Cylinder misfire detected')
      const rules = (await request('GET', '/api/v1/fault_rules?filter[code][eq]=P0300')).json()
      assert.equal(fault.fault_rule_id, rules.records[0].id)
    })

    it('files the fault as ignored when its rule says ignore, whatever status was sent', async () => {
      const fault = (await post({ vehicle_id: vehicleId, code: 'U0100', status: 'open' })).json()
      assert.equal(fault.status, 'ignored')
    })

    it('follows its rule as it is now: a rule changed, renamed or removed since the last create decides the next', async () => {
      const rule = await makeRule(t.app, acme.accountId, { code: 'B1001', name: 'Airbag' })
      const first = (await post({ vehicle_id: vehicleId, code: 'B1001', status: 'open' })).json()
      assert.deepEqual([first.name, first.status], ['Airbag', 'open'])
      const changed = await request('PATCH', `/api/v1/fault_rules/${rule.id}`, { name: 'Airbag circuit', priority_handling: 'ignore' })
      assert.equal(changed.statusCode, 204)
      const second = (await post({ vehicle_id: vehicleId, code: 'B1001', status: 'open' })).json()
      assert.deepEqual([second.name, second.status, second.fault_rule_id], ['Airbag circuit', 'ignored', rule.id])
      assert.equal((await request('PATCH', `/api/v1/fault_rules/${rule.id}`, { code: 'B1002' })).statusCode, 204)
      const renamed = await post({ vehicle_id: vehicleId, code: 'B1001' })
      assert.deepEqual(expectProblem(renamed, 422, '/problems/validation-error').errors, {
        code: ['must correspond with an existing fault rule'],
      })
      const other = await makeAccount(t.app)
      const foreign = await makeVehicle(t.app, other.accountId)
      const stranger = await post({ vehicle_id: foreign.id, code: 'B1002' })
      assert.deepEqual(expectProblem(stranger, 422, '/problems/validation-error').errors, { vehicle_id: ['must exist'] })
      assert.equal((await post({ vehicle_id: vehicleId, code: 'B1002' })).json().name, 'Airbag circuit')
    })

    it("mirrors the vehicle's archived_at", async () => {
      const vehicle = await makeVehicle(t.app, acme.accountId)
      const archived = await request('PATCH', `/api/v1/vehicles/${vehicle.id}`, { archived: true }, { prefer: 'return=representation' })
      const fault = (await post({ vehicle_id: vehicle.id, code: 'P0420' })).json()
      assert.equal(fault.vehicle_archived_at, archived.json().archived_at)
      assert.notEqual(fault.vehicle_archived_at, null)
    })

    it('answers HAL with links to the vehicle and the rule on request', async () => {
      const response = await post({ vehicle_id: vehicleId, code: 'P0420' }, { accept: 'application/hal+json' })
      assert.equal(response.statusCode, 201)
      assert.match(String(response.headers['content-type']), /^application\/hal\+json/)
      const fault = response.json()
      assert.deepEqual(fault._links.self, { href: `/api/v1/faults/${fault.id}` })
      assert.deepEqual(fault._links.vehicle, { href: `/api/v1/vehicles/${vehicleId}` })
      assert.deepEqual(fault._links.fault_rule, { href: `/api/v1/fault_rules/${fault.fault_rule_id}` })
    })

    it('answers Prefer: return=minimal with an empty 201 and Location', async () => {
      const response = await post({ vehicle_id: vehicleId, code: 'P0420' }, { prefer: 'return=minimal' })
      assert.equal(response.statusCode, 201)
      assert.equal(response.body, '')
      assert.match(String(response.headers.location), /^\/api\/v1\/faults\/\d+$/)
      assert.equal(response.headers['preference-applied'], 'return=minimal')
    })
  })

  describe('validation', () => {
    const invalid = async (payload: unknown, errors: Record<string, string[]>) => {
      const response = await post(payload)
      const body = expectProblem(response, 422, '/problems/validation-error')
      assert.deepEqual(body.errors, errors)
    }

    it('requires vehicle_id and code', async () => {
      await invalid({}, { vehicle_id: ["can't be blank"], code: ["can't be blank"] })
      await invalid({ vehicle_id: null, code: '' }, { vehicle_id: ["can't be blank"], code: ["can't be blank"] })
    })

    it('checks every field rule of the seed, all at once', async () => {
      await invalid(
        {
          vehicle_id: 0,
          code: 'x'.repeat(256),
          count: 0,
          external_id: 'e'.repeat(256),
          last_occurred_at: 'last tuesday',
          name: 'n'.repeat(256),
          status: 'broken',
          source: 's'.repeat(256),
        },
        {
          vehicle_id: ['must be greater than or equal to 1'],
          code: ['is too long (maximum is 255 characters)'],
          count: ['must be greater than or equal to 1'],
          external_id: ['is too long (maximum is 255 characters)'],
          last_occurred_at: ['is not a valid date-time'],
          name: ['is too long (maximum is 255 characters)'],
          status: ['is not a valid value. Please specify one of the predefined values for this field.'],
          source: ['is too long (maximum is 255 characters)'],
        },
      )
      await invalid({ vehicle_id: 'seven', code: 'P0420', count: 1.5 }, { vehicle_id: ['is not a number'], count: ['must be an integer'] })
    })

    it('answers 422 for a leap second, which RFC 3339 allows but no stored instant can hold, and changes nothing', async () => {
      const leap = { last_occurred_at: ['is not a valid date-time'] }
      await invalid({ vehicle_id: vehicleId, code: 'P0420', last_occurred_at: '2026-12-31T23:59:60Z' }, leap)
      await invalid({ vehicle_id: vehicleId, code: 'P0420', last_occurred_at: '2026-12-31T23:59:60.500Z' }, leap)
      const created = await post({ vehicle_id: vehicleId, code: 'P0420', last_occurred_at: '2026-12-31t23:59:59.5z' })
      assert.equal(created.statusCode, 201)
      assert.equal(created.json().last_occurred_at, '2026-12-31T23:59:59.500Z')
      const url = created.headers.location as string
      const patched = await request('PATCH', url, { last_occurred_at: '2026-12-31T23:59:60+00:00', count: 2 })
      assert.deepEqual(expectProblem(patched, 422, '/problems/validation-error').errors, leap)
      const shown = await request('GET', url)
      assert.equal(shown.json().count, 1)
      assert.equal(shown.headers.etag, created.headers.etag)
    })

    it('requires a vehicle of the account and a code that matches a rule, alongside schema errors', async () => {
      await invalid(
        { vehicle_id: 999999, code: 'NOPE' },
        { vehicle_id: ['must exist'], code: ['must correspond with an existing fault rule'] },
      )
      await invalid(
        { vehicle_id: vehicleId, code: 'NOPE', count: 0 },
        { code: ['must correspond with an existing fault rule'], count: ['must be greater than or equal to 1'] },
      )
      await invalid({ vehicle_id: vehicleId, code: 'p0300' }, { code: ['must correspond with an existing fault rule'] })
    })

    it('answers a body that is not an object with 400 and changes nothing', async () => {
      const before = (await request('GET', '/api/v1/faults?per_page=100')).json().records.length
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/faults',
        headers: { ...acme.headers, 'content-type': 'application/json' },
        payload: '[]',
      })
      expectProblem(response, 400, '/problems/malformed-request')
      assert.equal((await request('GET', '/api/v1/faults?per_page=100')).json().records.length, before)
    })

    it('ignores unknown and read-only fields, or rejects unknown ones with Prefer: handling=strict', async () => {
      const lenient = await post({ vehicle_id: vehicleId, code: 'P0420', id: 1, account_id: 999, is_sample: true, colour: 'red' })
      assert.equal(lenient.statusCode, 201)
      assert.equal(lenient.json().account_id, acme.accountId)
      assert.equal(lenient.json().is_sample, false)
      const strict = await post({ vehicle_id: vehicleId, code: 'P0420', colour: 'red' }, { prefer: 'handling=strict' })
      const body = expectProblem(strict, 422, '/problems/validation-error')
      assert.deepEqual(body.errors, { colour: ['is not a known attribute'] })
    })
  })

  describe('update and delete', () => {
    it('resolves with 204 and a new ETag; 200 with the Fault on Prefer: return=representation', async () => {
      const created = await post({ vehicle_id: vehicleId, code: 'P0420' })
      const url = created.headers.location as string
      const patched = await request('PATCH', url, { status: 'resolved', count: 4 })
      assert.equal(patched.statusCode, 204)
      assert.equal(patched.body, '')
      assert.notEqual(patched.headers.etag, created.headers.etag)
      const shown = await request('GET', url)
      assert.equal(shown.json().status, 'resolved')
      assert.equal(shown.json().count, 4)
      assert.equal(shown.headers.etag, patched.headers.etag)
      const full = await request('PATCH', url, { description: null, name: 'renamed' }, { prefer: 'return=representation' })
      assert.equal(full.statusCode, 200)
      assert.equal(full.headers['preference-applied'], 'return=representation')
      assert.equal(full.json().name, 'renamed')
      assert.equal(full.json().description, null)
      const after = await request('GET', url)
      assert.deepEqual(full.json(), after.json())
      assert.equal(full.headers.etag, after.headers.etag)
    })

    it("answers a PATCH with the fault as a GET shows it, its vehicle's archived_at included", async () => {
      const vehicle = await makeVehicle(t.app, acme.accountId)
      const created = await post({ vehicle_id: vehicle.id, code: 'P0420' })
      const url = created.headers.location as string
      const archived = await request('PATCH', `/api/v1/vehicles/${vehicle.id}`, { archived: true }, { prefer: 'return=representation' })
      const patched = await request('PATCH', url, { status: 'resolved' }, { prefer: 'return=representation' })
      assert.equal(patched.statusCode, 200)
      assert.equal(patched.json().vehicle_archived_at, archived.json().archived_at)
      const shown = await request('GET', url)
      assert.deepEqual(patched.json(), shown.json())
      assert.equal(patched.headers.etag, shown.headers.etag)
    })

    it('does not let PATCH change the code, vehicle or account', async () => {
      const created = (await post({ vehicle_id: vehicleId, code: 'P0420' })).json()
      const other = await makeVehicle(t.app, acme.accountId)
      await request('PATCH', `/api/v1/faults/${created.id}`, { code: 'P0300', vehicle_id: other.id, account_id: 9 })
      const shown = (await request('GET', `/api/v1/faults/${created.id}`)).json()
      assert.equal(shown.code, 'P0420')
      assert.equal(shown.vehicle_id, vehicleId)
    })

    it('answers If-None-Match with 304, a stale If-Match with 412, and puts 404 and 422 before 412', async () => {
      const created = await post({ vehicle_id: vehicleId, code: 'P0420' })
      const url = created.headers.location as string
      const etag = String(created.headers.etag)
      const notModified = await request('GET', url, undefined, { 'if-none-match': etag })
      assert.equal(notModified.statusCode, 304)
      assert.equal(notModified.body, '')
      assert.equal(notModified.headers.etag, etag)
      assert.equal((await request('PATCH', url, { count: 2 }, { 'if-match': etag })).statusCode, 204)
      expectProblem(await request('PATCH', url, { count: 3 }, { 'if-match': etag }), 412)
      expectProblem(await request('DELETE', url, undefined, { 'if-match': etag }), 412)
      expectProblem(await request('PATCH', '/api/v1/faults/999999', { count: 3 }, { 'if-match': etag }), 404)
      expectProblem(await request('PATCH', url, { count: 0 }, { 'if-match': etag }), 422, '/problems/validation-error')
    })

    it('deletes with 204, after which the fault is gone', async () => {
      const url = (await post({ vehicle_id: vehicleId, code: 'P0420' })).headers.location as string
      const deleted = await request('DELETE', url)
      assert.equal(deleted.statusCode, 204)
      assert.equal(deleted.body, '')
      expectProblem(await request('GET', url), 404)
      expectProblem(await request('DELETE', url), 404)
    })
  })
})

describe(`fault lists (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  const vehicles: number[] = []
  const rules: Record<string, number> = {}
  before(async () => {
    t = await buildTestApp()
    acme = await makeAccount(t.app)
    for (let v = 0; v < 3; v++) vehicles.push((await makeVehicle(t.app, acme.accountId)).id)
    for (const code of ['P0100', 'P0200', 'P0300']) rules[code] = (await makeRule(t.app, acme.accountId, { code })).id
    const statuses = ['open', 'resolved', 'ignored'] as const
    for (let i = 0; i < 120; i++) {
      await makeFault(t.app, acme.accountId, {
        vehicle_id: vehicles[i % 3] as number,
        code: ['P0100', 'P0200', 'P0300'][i % 3] as string,
        status: statuses[Math.floor(i / 40)],
        external_id: `ext-${i}`,
        name: i % 10 === 0 ? `Misfire ${i}` : `Other ${i}`,
        // Many equal timestamps: ties must be broken by id.
        last_occurred_at: new Date(Date.UTC(2026, 0, 1 + Math.floor(i / 10))).toISOString(),
      })
    }
  })
  after(() => t.close())

  const list = async (query: string) => {
    const response = await t.app.inject({ url: `/api/v1/faults?${query}`, headers: acme.headers })
    assert.equal(response.statusCode, 200, response.body)
    return response
  }

  async function walk(query: string) {
    const ids: number[] = []
    const records: Array<Record<string, unknown>> = []
    let cursor: string | null = null
    for (let pages = 0; pages < 100; pages++) {
      const response = await list(`${query}&per_page=9${cursor ? `&start_cursor=${encodeURIComponent(cursor)}` : ''}`)
      const page = response.json()
      for (const record of page.records) {
        ids.push(record.id)
        records.push(record)
      }
      cursor = page.next_cursor
      if (cursor) assert.match(String(response.headers.link), /rel="next"/)
      else {
        assert.equal(response.headers.link, undefined)
        break
      }
    }
    return { ids, records }
  }

  it('walks every page exactly once in each order', async () => {
    for (const sort of [
      '',
      'sort[id]=asc',
      'sort[last_occurred_at]=asc',
      'sort[last_occurred_at]=desc',
      'sort[created_at]=asc',
      'sort[updated_at]=desc',
    ]) {
      const { ids, records } = await walk(sort)
      assert.equal(ids.length, 120, sort)
      assert.equal(new Set(ids).size, 120, `${sort}: no record twice`)
      if (sort.includes('last_occurred_at')) {
        const times = records.map((record) => String(record.last_occurred_at))
        const sorted = [...times].sort()
        assert.deepEqual(times, sort.endsWith('asc') ? sorted : sorted.reverse(), sort)
      }
      if (sort === '')
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => b - a),
        )
    }
  })

  it('answers the Fleetio envelope', async () => {
    const page = (await list('per_page=5')).json()
    assert.deepEqual(Object.keys(page).sort(), [
      'estimated_remaining_count',
      'filtered_by',
      'next_cursor',
      'per_page',
      'records',
      'sorted_by',
      'start_cursor',
    ])
    assert.equal(page.per_page, 5)
    assert.equal(page.start_cursor, null)
    assert.equal(page.estimated_remaining_count, 120)
    assert.deepEqual(page.sorted_by, [{ id: 'desc' }])
    assert.deepEqual(page.filtered_by, [])
  })

  it('filters on each declared field', async () => {
    const count = async (query: string) => (await walk(query)).ids.length
    assert.equal(await count('filter[status][eq]=open'), 40)
    assert.equal(await count('filter[status][include]=open,ignored'), 80)
    assert.equal(await count(`filter[vehicle_id][eq]=${vehicles[0]}`), 40)
    assert.equal(await count('filter[code][eq]=P0200'), 40)
    assert.equal(await count(`filter[fault_rule_id][eq]=${rules.P0300}`), 40)
    assert.equal(await count('filter[external_id][eq]=ext-7'), 1)
    assert.equal(await count('filter[name][like]=misfire'), 12)
    assert.equal(await count('filter[name][eq]=Other 1'), 1)
    assert.equal(await count('filter[last_occurred_at][gte]=2026-01-11T00:00:00Z'), 20)
    assert.equal(await count('filter[last_occurred_at][lt]=2026-01-02'), 10)
    assert.equal(await count('filter[created_at][gt]=2000-01-01T00:00:00Z&filter[status][eq]=resolved'), 40)
    assert.equal(await count('filter[updated_at][lte]=2000-01-01T00:00:00Z'), 0)
    const page = (await list('filter[status][include]=open,resolved&filter[code][eq]=P0100')).json()
    const applied = (page.filtered_by as object[]).map((filter) => JSON.stringify(filter)).sort()
    assert.deepEqual(applied, [JSON.stringify({ code: { eq: 'P0100' } }), JSON.stringify({ status: { include: ['open', 'resolved'] } })])
  })

  it('answers 400 naming an unknown filter field or operator, a bad value, a bad per_page or cursor', async () => {
    const bad = async (query: string, parameter: string) => {
      const response = await t.app.inject({ url: `/api/v1/faults?${query}`, headers: acme.headers })
      const body = expectProblem(response, 400, '/problems/invalid-parameter')
      assert.equal(body.parameter, parameter)
    }
    await bad('filter[colour][eq]=red', 'filter[colour][eq]')
    await bad('filter[status][gt]=open', 'filter[status][gt]')
    await bad('filter[status][eq]=broken', 'filter[status][eq]')
    await bad('filter[vehicle_id][eq]=seven', 'filter[vehicle_id][eq]')
    await bad('sort[colour]=asc', 'sort[colour]')
    await bad('per_page=0', 'per_page')
    await bad('per_page=101', 'per_page')
    await bad('start_cursor=not-a-cursor', 'start_cursor')
    const next = (await list('per_page=2')).json().next_cursor as string
    await bad(`start_cursor=${encodeURIComponent(tampered(next))}`, 'start_cursor')
    await bad(`sort[created_at]=asc&start_cursor=${encodeURIComponent(next)}`, 'start_cursor')
  })

  it('answers a HAL list on request', async () => {
    const response = await t.app.inject({ url: '/api/v1/faults?per_page=2', headers: { ...acme.headers, accept: 'application/hal+json' } })
    assert.match(String(response.headers['content-type']), /^application\/hal\+json/)
    const body = response.json()
    assert.equal(body._embedded.records.length, 2)
    assert.equal(body._links.self.href, '/api/v1/faults?per_page=2')
    assert.match(body._links.next.href, /^\/api\/v1\/faults\?per_page=2&start_cursor=/)
    assert.ok(body._embedded.records[0]._links.vehicle)
    assert.equal(body.records, undefined)
  })
})
