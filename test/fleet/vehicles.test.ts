// Vehicles over HTTP (CONTRACT §1, §4-§6, §9): create, validation, show, conditional requests, PATCH forms, archive, delete, lists.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { makeAccount, type TestAccount } from '../helpers/factories.js'
import { makeVehicle } from '../helpers/fleet.js'
import {
  BLANK,
  ETAG,
  expectInvalid,
  type Injected,
  ISO,
  MISSING,
  newestFirst,
  type Page,
  resourceCalls,
  STALE,
  tampered,
  walkPages,
} from '../helpers/requests.js'

type Vehicle = { id: number; name: string; created_at: string; updated_at: string; archived_at: string | null } & Record<string, unknown>

const FIELDS = 'account_id archived_at created_at external_id id license_plate make model name updated_at vin year'
const unique = () => `Truck ${randomBytes(4).toString('hex')}`
const long = (length: number) => 'x'.repeat(length)

describe(`vehicles (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000', RATE_LIMIT_QUOTA: '100000' } })
    acme = await makeAccount(t.app, 'Acme')
  })
  after(() => t.close())

  const { call, create, show, patch, remove, created } = resourceCalls<Vehicle>(
    '/api/v1/vehicles',
    () => ({ app: t.app, as: acme }),
    () => ({ name: unique() }),
  )
  /** Ids in the first (only) page of the list with the given query. */
  async function listed(query = ''): Promise<number[]> {
    const response = await call('GET', `/api/v1/vehicles?per_page=100${query}`)
    assert.equal(response.statusCode, 200, response.body)
    assert.equal(response.json().next_cursor, null)
    return response.json().records.map((vehicle: Vehicle) => vehicle.id)
  }

  describe('create', () => {
    it('answers 201 with Location, ETag and every field; nulls for optionals left out', async () => {
      const payload = {
        name: unique(),
        vin: '1HGCM82633A004352',
        license_plate: 'AB-123',
        external_id: 'e1',
        make: 'Volvo',
        model: 'FH',
        year: 2020,
      }
      const response = await create(payload)
      assert.equal(response.statusCode, 201, response.body)
      assert.match(String(response.headers['content-type']), /^application\/json/)
      const body = response.json() as Vehicle
      assert.equal(Object.keys(body).sort().join(' '), FIELDS)
      assert.ok(Number.isInteger(body.id) && body.id > 0)
      const { id, created_at, updated_at, ...rest } = body
      assert.deepEqual(rest, { ...payload, account_id: acme.accountId, archived_at: null })
      for (const timestamp of [created_at, updated_at]) assert.match(timestamp, ISO)
      assert.equal(response.headers.location, `/api/v1/vehicles/${id}`)
      assert.match(String(response.headers.etag), ETAG)
      const shown = await show(id)
      assert.deepEqual(shown.json(), body)
      assert.equal(shown.headers.etag, response.headers.etag)
      const minimal = await created()
      for (const field of ['vin', 'license_plate', 'external_id', 'make', 'model', 'year', 'archived_at'])
        assert.equal(minimal[field], null)
    })

    it('accepts the boundaries: a 255-character name, a 17-character vin, years 1886 and 2100', async () => {
      const name = `${unique()}${long(241)}`
      assert.equal((await created({ name, vin: long(17), year: 1886 })).name, name)
      assert.equal((await created({ year: 2100 })).year, 2100)
    })

    const cases: Array<[string, object, Record<string, string[]>]> = [
      ['a missing name', {}, { name: BLANK }],
      ['a blank name', { name: '' }, { name: BLANK }],
      ['a null name', { name: null }, { name: BLANK }],
      ['a name over 255 characters', { name: long(256) }, { name: ['is too long (maximum is 255 characters)'] }],
      ['a vin over 17 characters', { name: unique(), vin: long(18) }, { vin: ['is too long (maximum is 17 characters)'] }],
      ['a fractional year', { name: unique(), year: 2020.5 }, { year: ['must be an integer'] }],
      ['a year that is not a number', { name: unique(), year: 'new' }, { year: ['is not a number'] }],
      ['a year before 1886', { name: unique(), year: 1885 }, { year: ['must be greater than or equal to 1886'] }],
      ['a year after 2100', { name: unique(), year: 2101 }, { year: ['must be less than or equal to 2100'] }],
      [
        'several invalid fields at once',
        { name: '', vin: long(18), year: 'x' },
        { name: BLANK, vin: ['is too long (maximum is 17 characters)'], year: ['is not a number'] },
      ],
    ]
    for (const [name, payload, errors] of cases) {
      it(`answers 422 for ${name}`, async () => expectInvalid(await create(payload), errors))
    }

    it('answers 422 for a duplicate name, on create and on rename; another account may use it', async () => {
      const first = await created()
      expectInvalid(await create({ name: first.name }), { name: ['has already been taken'] })
      const second = await created()
      expectInvalid(await patch(second.id, { name: first.name }), { name: ['has already been taken'] })
      const other = await makeAccount(t.app, 'Other')
      assert.equal((await call('POST', '/api/v1/vehicles', { name: first.name }, {}, other)).statusCode, 201)
    })

    it('lets exactly one of two racing creates of one name win; the other is 422', async () => {
      const name = unique()
      const responses = await Promise.all([create({ name }), create({ name })])
      const [won, lost] = [...responses].sort((a, b) => a.statusCode - b.statusCode) as [Injected, Injected]
      assert.equal(won.statusCode, 201, won.body)
      expectInvalid(lost, { name: ['has already been taken'] })
    })

    it('answers a NUL character with 422 in a body field and 400 in a filter, never 500', async () => {
      assert.ok('name' in (expectProblem(await create({ name: 'nul\u0000byte' }), 422, '/problems/validation-error').errors as object))
      const filtered = expectProblem(await call('GET', '/api/v1/vehicles?filter[name][eq]=%00'), 400, '/problems/invalid-parameter')
      assert.equal(filtered.parameter, 'filter[name][eq]')
    })

    it('ignores unknown and read-only fields, unless Prefer: handling=strict', async () => {
      const other = await makeAccount(t.app, 'Other')
      const readOnly = { id: MISSING, account_id: other.accountId, created_at: '2000-01-01T00:00:00Z' }
      const body = (await create({ name: unique(), color: 'red', ...readOnly })).json() as Vehicle
      assert.notEqual(body.id, MISSING)
      assert.equal(body.account_id, acme.accountId)
      assert.ok(body.created_at > '2020', body.created_at)
      assert.equal('color' in body, false)
      const strict = await create({ name: '', color: 'red' }, { prefer: 'handling=strict' })
      expectInvalid(strict, { name: BLANK, color: ['is not a known attribute'] })
      assert.equal(strict.headers['preference-applied'], 'handling=strict')
      expectInvalid(await patch(body.id, { colour: 'blue' }, { prefer: 'handling=strict' }), { colour: ['is not a known attribute'] })
      assert.equal((await patch(body.id, readOnly)).statusCode, 204)
      assert.deepEqual({ ...(await show(body.id)).json<Vehicle>(), updated_at: '' }, { ...body, updated_at: '' })
    })
  })

  describe('show and conditional requests', () => {
    it('answers 200 with an ETag, 304 (ETag, no body) for If-None-Match with it, 200 for another; 404 for a missing id', async () => {
      const vehicle = await created()
      const shown = await show(vehicle.id)
      assert.equal(shown.statusCode, 200)
      assert.deepEqual(shown.json(), vehicle)
      const etag = String(shown.headers.etag)
      assert.match(etag, ETAG)
      const cached = await show(vehicle.id, { 'if-none-match': etag })
      assert.deepEqual([cached.statusCode, cached.headers.etag, cached.body], [304, etag, ''])
      assert.equal((await show(vehicle.id, { 'if-none-match': STALE })).statusCode, 200)
      assert.equal(expectProblem(await show(MISSING), 404).detail, 'The requested resource does not exist.')
    })

    it('answers application/hal+json with _links.self when asked', async () => {
      const vehicle = await created()
      const response = await show(vehicle.id, { accept: 'application/hal+json' })
      assert.equal(response.statusCode, 200)
      assert.match(String(response.headers['content-type']), /^application\/hal\+json/)
      const { _links: links, ...plain } = response.json()
      assert.deepEqual(plain, vehicle)
      assert.equal(links.self.href, `/api/v1/vehicles/${vehicle.id}`)
      assert.match(String(response.headers.etag), ETAG)
      assert.notEqual(response.headers.etag, (await show(vehicle.id)).headers.etag, 'each representation has its own strong ETag')
    })
  })

  describe('update', () => {
    it('answers 204 with the new ETag and no body; GET shows the change under that ETag', async () => {
      const vehicle = await created()
      const response = await patch(vehicle.id, { make: 'Scania', year: 2019 })
      assert.deepEqual([response.statusCode, response.body], [204, ''])
      const shown = await show(vehicle.id)
      assert.equal(response.headers.etag, shown.headers.etag)
      assert.deepEqual({ ...shown.json<Vehicle>(), updated_at: '' }, { ...vehicle, make: 'Scania', year: 2019, updated_at: '' })
      assert.ok(shown.json().updated_at >= vehicle.updated_at)
    })

    it('answers 200 with the body and Preference-Applied for Prefer: return=representation', async () => {
      const vehicle = await created()
      const response = await patch(vehicle.id, { model: 'R500' }, { prefer: 'return=representation' })
      assert.deepEqual([response.statusCode, response.headers['preference-applied']], [200, 'return=representation'])
      assert.match(String(response.headers['content-type']), /^application\/json/)
      assert.equal(response.json().model, 'R500')
      const shown = await show(vehicle.id)
      assert.deepEqual(response.json(), shown.json())
      assert.equal(response.headers.etag, shown.headers.etag)
    })

    it('accepts application/merge-patch+json', async () => {
      const vehicle = await created({ make: 'Volvo' })
      const body = JSON.stringify({ make: null, license_plate: 'MP-1' })
      const response = await patch(vehicle.id, body, { 'content-type': 'application/merge-patch+json' })
      assert.equal(response.statusCode, 204, response.body)
      assert.deepEqual(
        { ...(await show(vehicle.id)).json<Vehicle>(), updated_at: '' },
        { ...vehicle, make: null, license_plate: 'MP-1', updated_at: '' },
      )
    })

    it('archives with {"archived": true} (out of the default list, in filter[archived][eq]=true) and restores with false', async () => {
      const vehicle = await created()
      const archived = await patch(vehicle.id, { archived: true }, { prefer: 'return=representation' })
      assert.match(String(archived.json().archived_at), ISO)
      assert.equal((await listed()).includes(vehicle.id), false)
      assert.equal((await listed('&filter[archived][eq]=true')).includes(vehicle.id), true)
      const restored = await patch(vehicle.id, { archived: false }, { prefer: 'return=representation' })
      assert.equal(restored.json().archived_at, null)
      assert.equal((await listed()).includes(vehicle.id), true)
      assert.equal((await listed('&filter[archived][eq]=true')).includes(vehicle.id), false)
    })

    it('answers 412 for a stale If-Match and changes nothing; the current ETag succeeds once', async () => {
      const vehicle = await created()
      const etag = String((await show(vehicle.id)).headers.etag)
      expectProblem(await patch(vehicle.id, { make: 'Stale' }, { 'if-match': STALE }), 412)
      assert.deepEqual((await show(vehicle.id)).json(), vehicle)
      assert.equal((await patch(vehicle.id, { make: 'Fresh' }, { 'if-match': etag })).statusCode, 204)
      expectProblem(await patch(vehicle.id, { make: 'Again' }, { 'if-match': etag }), 412)
      assert.equal((await show(vehicle.id)).json().make, 'Fresh')
    })

    it('lets one of two concurrent PATCHes with the same If-Match win; the other is 412', async () => {
      for (let round = 0; round < 10; round++) {
        const vehicle = await created()
        const etag = String((await show(vehicle.id)).headers.etag)
        const raced = await Promise.all(['One', 'Two'].map((make) => patch(vehicle.id, { make }, { 'if-match': etag })))
        assert.deepEqual(raced.map((response) => response.statusCode).sort(), [204, 412], `round ${round}`)
      }
    })

    it('puts 404 and 422 before 412', async () => {
      expectProblem(await patch(MISSING, { make: 'x' }, { 'if-match': STALE }), 404)
      expectProblem(await remove(MISSING, { 'if-match': STALE }), 404)
      const vehicle = await created()
      const errors = { name: BLANK, year: ['must be greater than or equal to 1886'] }
      expectInvalid(await patch(vehicle.id, { name: '', year: 1 }, { 'if-match': STALE }), errors)
    })
  })

  describe('delete', () => {
    it('answers 204 without a body, then 404 on GET and DELETE; 412 for a stale If-Match', async () => {
      const vehicle = await created()
      expectProblem(await remove(vehicle.id, { 'if-match': STALE }), 412)
      const response = await remove(vehicle.id, { 'if-match': String((await show(vehicle.id)).headers.etag) })
      assert.equal(response.statusCode, 204)
      assert.equal(response.body, '')
      expectProblem(await show(vehicle.id), 404)
      expectProblem(await remove(vehicle.id), 404)
    })
  })
})

describe(`vehicle lists (${engine})`, () => {
  const TOTAL = 150
  let t: TestApp
  let fleet: TestAccount
  /** In creation (id) order; names are a permutation of v000..v149, so name order is not id order. */
  const vehicles: Vehicle[] = []
  before(async () => {
    t = await buildTestApp({ env: { RATE_LIMIT_QUOTA: '100000' } })
    fleet = await makeAccount(t.app, 'Fleet')
    await makeVehicle(t.app, (await makeAccount(t.app, 'Elsewhere')).accountId, { name: 'v999' })
    for (let index = 0; index < TOTAL; index++) {
      if (index === TOTAL / 2) await sleep(5) // so filter[created_at][gt] has a boundary no two inserts share
      const name = `v${String((index * 47) % TOTAL).padStart(3, '0')}`
      const row = await makeVehicle(t.app, fleet.accountId, { name, year: 1990 + (index % 30), external_id: `ext-${index}` })
      vehicles.push({ ...row, created_at: new Date(row.created_at).toISOString() } as unknown as Vehicle)
    }
  })
  after(() => t.close())

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ url, headers: { ...fleet.headers, ...headers } })
  const ids = (list: Vehicle[]) => list.map((vehicle) => vehicle.id)

  /** Every page from the first to the last, checking every envelope on the way. */
  const walk = (query: string) =>
    walkPages<Vehicle>(get, `/api/v1/vehicles?per_page=7${query}`, TOTAL, (page, response, previous) => {
      assert.deepEqual([page.start_cursor, page.per_page], [previous, 7])
      if (page.next_cursor === null) return
      assert.ok(String(response.headers.link).includes(`start_cursor=${encodeURIComponent(page.next_cursor)}`))
      assert.equal(page.records.length, 7)
    })

  it('walks every page in id desc order by default, with the envelope', async () => {
    const first = (await get('/api/v1/vehicles?per_page=7')).json() as Page<Vehicle>
    const envelope = 'estimated_remaining_count filtered_by next_cursor per_page records sorted_by start_cursor'
    assert.equal(Object.keys(first).sort().join(' '), envelope)
    assert.deepEqual([first.filtered_by, first.sorted_by], [[{ archived: { eq: false } }], [{ id: 'desc' }]])
    assert.deepEqual(first.records[0], (await get(`/api/v1/vehicles/${first.records[0]?.id}`)).json())
    assert.deepEqual(await walk(''), ids(vehicles).reverse())
  })

  it('walks sort[name]=asc and sort[created_at]=desc (ties by id desc) in order', async () => {
    assert.deepEqual(await walk('&sort[name]=asc'), ids([...vehicles].sort((a, b) => (a.name < b.name ? -1 : 1))))
    const newest = [...vehicles].sort(newestFirst)
    assert.deepEqual(await walk('&sort[created_at]=desc'), ids(newest))
  })

  const pivot = () => vehicles[TOTAL / 2 - 1]?.created_at ?? ''
  const filters: Array<[string, (vehicle: Vehicle) => boolean]> = [
    ['filter[name][eq]=v042', (vehicle) => vehicle.name === 'v042'],
    ['filter[name][like]=V04', (vehicle) => vehicle.name.startsWith('v04')],
    ['filter[year][gt]=2010&filter[year][lte]=2015', ({ year }) => Number(year) > 2010 && Number(year) <= 2015],
    ['filter[external_id][include]=ext-3,ext-77,ext-none', ({ external_id }) => external_id === 'ext-3' || external_id === 'ext-77'],
    ['filter[created_at][gt]=<the 75th created_at>', (vehicle) => vehicle.created_at > pivot()],
  ]
  for (const [query, expected] of filters) {
    it(`filters with ${query}, echoing it in filtered_by`, async () => {
      const response = await get(`/api/v1/vehicles?per_page=100&${query.replace('<the 75th created_at>', pivot())}`)
      assert.equal(response.statusCode, 200, response.body)
      const page = response.json() as Page<Vehicle>
      const matching = ids(vehicles.filter(expected)).reverse()
      assert.ok(matching.length > 0 && matching.length < TOTAL)
      assert.deepEqual(ids(page.records), matching)
      assert.equal((page.filtered_by as unknown[]).length, query.split('&').length + 1, 'the sent filters and archived=false')
    })
  }

  it('answers 400 naming an unknown filter field or operator, an unsortable field, a bad per_page or start_cursor', async () => {
    const cursor = String(((await get('/api/v1/vehicles?per_page=7')).json() as Page<Vehicle>).next_cursor)
    const cases: Array<[string, string, RegExp]> = [
      ['filter[color][eq]=red', 'filter[color][eq]', /color is not a filter/],
      ['filter[name][gt]=a', 'filter[name][gt]', /name cannot be filtered with gt/],
      ['sort[vin]=asc', 'sort[vin]', /vin is not sortable/],
      ['per_page=0', 'per_page', /per_page/],
      ['per_page=101', 'per_page', /per_page/],
      [`start_cursor=${tampered(cursor)}`, 'start_cursor', /not a cursor of this list/],
      ['start_cursor=garbage', 'start_cursor', /not a cursor of this list/],
      [`start_cursor=${cursor}&sort[name]=asc`, 'start_cursor', /belongs to sort\[id\]=desc/],
    ]
    for (const [query, parameter, detail] of cases) {
      const body = expectProblem(await get(`/api/v1/vehicles?${query}`), 400, '/problems/invalid-parameter')
      assert.equal(body.parameter, parameter, query)
      assert.match(String(body.detail), detail)
    }
  })

  it('answers a HAL list with _embedded.records and _links self and next', async () => {
    const url = '/api/v1/vehicles?per_page=7&sort[name]=asc'
    const response = await get(url, { accept: 'application/hal+json' })
    assert.equal(response.statusCode, 200)
    assert.match(String(response.headers['content-type']), /^application\/hal\+json/)
    const body = response.json()
    assert.equal(body.records, undefined)
    assert.deepEqual(body.sorted_by, [{ name: 'asc' }])
    assert.equal(body._links.self.href, url)
    assert.equal(`<${body._links.next.href}>; rel="next"`, response.headers.link)
    assert.ok(body._links.next.href.includes(`start_cursor=${encodeURIComponent(body.next_cursor)}`))
    assert.equal(body._embedded.records.length, 7)
    for (const record of body._embedded.records) assert.equal(record._links.self.href, `/api/v1/vehicles/${record.id}`)
  })
})
