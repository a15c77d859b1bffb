// Fault rules over HTTP (CONTRACT §1, §4-§6, §9): create, validation, per-account codes, show, update, delete (409 in use), lists.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { makeAccount, type TestAccount } from '../helpers/factories.js'
import { makeFault, makeRule, makeVehicle } from '../helpers/fleet.js'
import {
  BLANK,
  NOT_ALLOWED as ENUM,
  ETAG,
  expectInvalid,
  type Injected,
  ISO,
  MISSING,
  newestFirst,
  type Page,
  resourceCalls,
  STALE,
  TOO_LONG,
  tampered,
  walkPages,
} from '../helpers/requests.js'

type Rule = { id: number; code: string; name: string | null; created_at: string; updated_at: string } & Record<string, unknown>

const TAKEN = { code: ['has already been taken'] }
const unique = () => `P${randomBytes(4).toString('hex')}`

describe(`fault rules (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000', RATE_LIMIT_QUOTA: '100000' } })
    acme = await makeAccount(t.app, 'Acme')
  })
  after(() => t.close())

  const { call, create, show, patch, remove, created } = resourceCalls<Rule>(
    '/api/v1/fault_rules',
    () => ({ app: t.app, as: acme }),
    () => ({ code: unique() }),
  )

  it('creates: 201 with Location, ETag and every field; nulls for optionals left out', async () => {
    const payload = { code: unique(), name: 'Low oil pressure', description: 'Check the pump', priority_handling: 'critical' }
    const response = await create(payload)
    assert.equal(response.statusCode, 201, response.body)
    const { id, created_at, updated_at, ...rest } = response.json() as Rule
    assert.deepEqual(rest, { ...payload, account_id: acme.accountId })
    assert.ok(Number.isInteger(id) && id > 0)
    assert.match(created_at, ISO)
    assert.match(updated_at, ISO)
    assert.equal(response.headers.location, `/api/v1/fault_rules/${id}`)
    assert.match(String(response.headers.etag), ETAG)
    const shown = await show(id)
    assert.deepEqual(shown.json(), response.json())
    assert.equal(shown.headers.etag, response.headers.etag)
    const minimal = await created()
    assert.deepEqual([minimal.name, minimal.description, minimal.priority_handling], [null, null, null])
  })

  const cases: Array<[string, object, Record<string, string[]>]> = [
    ['a missing code', {}, { code: BLANK }],
    ['a blank code', { code: '' }, { code: BLANK }],
    ['a code over 255 characters', { code: 'c'.repeat(256) }, { code: TOO_LONG }],
    ['a name over 255 characters', { code: unique(), name: 'n'.repeat(256) }, { name: TOO_LONG }],
    ['an unknown priority_handling', { code: unique(), priority_handling: 'urgent' }, { priority_handling: ENUM }],
    [
      'several invalid fields at once',
      { name: 'n'.repeat(256), priority_handling: 'x' },
      { code: BLANK, name: TOO_LONG, priority_handling: ENUM },
    ],
  ]
  for (const [name, payload, errors] of cases) {
    it(`answers 422 for ${name}`, async () => expectInvalid(await create(payload), errors))
  }

  it('answers a NUL character with 422 in a code and 400 in a filter, never 500', async () => {
    assert.ok('code' in (expectProblem(await create({ code: 'P\u0000' }), 422, '/problems/validation-error').errors as object))
    const filtered = expectProblem(await call('GET', '/api/v1/fault_rules?filter[code][eq]=%00'), 400, '/problems/invalid-parameter')
    assert.equal(filtered.parameter, 'filter[code][eq]')
  })

  it('keeps codes unique per account: 422 on create, rename and a race; another account may use the code', async () => {
    const first = await created()
    expectInvalid(await create({ code: first.code }), TAKEN)
    expectInvalid(await patch((await created()).id, { code: first.code }), TAKEN)
    const code = unique()
    const raced = (await Promise.all([create({ code }), create({ code })])).sort((a, b) => a.statusCode - b.statusCode)
    assert.equal(raced[0]?.statusCode, 201)
    expectInvalid(raced[1] as Injected, TAKEN)
    const other = await makeAccount(t.app, 'Other')
    const elsewhere = await call('POST', '/api/v1/fault_rules', { code: first.code }, {}, other)
    assert.equal(elsewhere.statusCode, 201, elsewhere.body)
    assert.equal(elsewhere.json().account_id, other.accountId)
  })

  it('shows: 200 with an ETag, 304 for If-None-Match with it, HAL with _links.self, 404 for a missing id', async () => {
    const rule = await created()
    const shown = await show(rule.id)
    assert.equal(shown.statusCode, 200)
    const cached = await show(rule.id, { 'if-none-match': String(shown.headers.etag) })
    assert.deepEqual([cached.statusCode, cached.headers.etag, cached.body], [304, shown.headers.etag, ''])
    const hal = await show(rule.id, { accept: 'application/hal+json' })
    assert.match(String(hal.headers['content-type']), /^application\/hal\+json/)
    const { _links: links, ...plain } = hal.json()
    assert.deepEqual(plain, rule)
    assert.equal(links.self.href, `/api/v1/fault_rules/${rule.id}`)
    expectProblem(await show(MISSING), 404)
  })

  it('updates: 204 with the new ETag; 200 and Preference-Applied with return=representation; merge-patch', async () => {
    const rule = await created({ name: 'Old', priority_handling: 'off' })
    const response = await patch(rule.id, { name: 'New' })
    assert.deepEqual([response.statusCode, response.body], [204, ''])
    assert.equal(response.headers.etag, (await show(rule.id)).headers.etag)
    const merged = await patch(rule.id, JSON.stringify({ priority_handling: null }), { 'content-type': 'application/merge-patch+json' })
    assert.equal(merged.statusCode, 204, merged.body)
    const full = await patch(rule.id, { description: 'Why' }, { prefer: 'return=representation' })
    assert.equal(full.statusCode, 200)
    assert.equal(full.headers['preference-applied'], 'return=representation')
    assert.deepEqual(
      { ...full.json<Rule>(), updated_at: '' },
      { ...rule, name: 'New', priority_handling: null, description: 'Why', updated_at: '' },
    )
    assert.deepEqual(full.json(), (await show(rule.id)).json())
  })

  it('answers 412 for a stale If-Match, after 404 and 422; the current ETag succeeds', async () => {
    const rule = await created()
    expectProblem(await patch(rule.id, { name: 'Stale' }, { 'if-match': STALE }), 412)
    expectProblem(await remove(rule.id, { 'if-match': STALE }), 412)
    assert.deepEqual((await show(rule.id)).json(), rule)
    expectProblem(await patch(MISSING, { name: 'x' }, { 'if-match': STALE }), 404)
    expectInvalid(await patch(rule.id, { priority_handling: 'x' }, { 'if-match': STALE }), { priority_handling: ENUM })
    const etag = String((await show(rule.id)).headers.etag)
    assert.equal((await patch(rule.id, { name: 'Fresh' }, { 'if-match': etag })).statusCode, 204)
  })

  it('lets one of two concurrent PATCHes with the same If-Match win; the other is 412', async () => {
    for (let round = 0; round < 10; round++) {
      const rule = await created()
      const etag = String((await show(rule.id)).headers.etag)
      const raced = await Promise.all(['One', 'Two'].map((name) => patch(rule.id, { name }, { 'if-match': etag })))
      assert.deepEqual(raced.map((response) => response.statusCode).sort(), [204, 412], `round ${round}`)
    }
  })

  it('deletes: 204 then 404; a rule a fault uses is 409 until the fault is gone', async () => {
    const unused = await created()
    assert.deepEqual([(await remove(unused.id)).statusCode, (await remove(unused.id)).statusCode], [204, 404])
    expectProblem(await show(unused.id), 404)
    const rule = await created()
    const fault = await makeFault(t.app, acme.accountId, { vehicle_id: (await makeVehicle(t.app, acme.accountId)).id, code: rule.code })
    const conflict = expectProblem(await remove(rule.id), 409, '/problems/conflict')
    assert.equal(conflict.title, 'Conflict with the current state')
    assert.equal((await show(rule.id)).statusCode, 200)
    assert.equal((await call('DELETE', `/api/v1/faults/${fault.id}`)).statusCode, 204)
    assert.equal((await remove(rule.id)).statusCode, 204)
    expectProblem(await show(rule.id), 404)
  })
})

describe(`fault rule lists (${engine})`, () => {
  const TOTAL = 30
  const handlings = [null, 'off', 'ignore', 'critical'] as const
  let t: TestApp
  let fleet: TestAccount
  /** In creation (id) order; codes are a permutation of c00..c29, so code order is not id order. */
  const rules: Rule[] = []
  before(async () => {
    t = await buildTestApp({ env: { RATE_LIMIT_QUOTA: '100000' } })
    fleet = await makeAccount(t.app, 'Fleet')
    await makeRule(t.app, (await makeAccount(t.app, 'Elsewhere')).accountId, { code: 'c00' })
    for (let index = 0; index < TOTAL; index++) {
      if (index === TOTAL / 2) await sleep(5) // so filter[created_at][gt] has a boundary no two inserts share
      const code = `c${String((index * 7) % TOTAL).padStart(2, '0')}`
      const row = await makeRule(t.app, fleet.accountId, { code, name: `Rule ${index}`, priority_handling: handlings[index % 4] })
      rules.push({ ...row, created_at: new Date(row.created_at).toISOString() } as unknown as Rule)
    }
  })
  after(() => t.close())

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ url, headers: { ...fleet.headers, ...headers } })
  const ids = (list: Rule[]) => list.map((rule) => rule.id)

  const walk = (query: string) => walkPages<Rule>(get, `/api/v1/fault_rules?per_page=7${query}`, TOTAL)

  it('walks every page by default (id desc), sort[code]=asc and sort[created_at]=desc, with the envelope', async () => {
    const first = (await get('/api/v1/fault_rules')).json() as Page<Rule>
    const envelope = {
      start_cursor: null,
      next_cursor: null,
      per_page: 50,
      estimated_remaining_count: TOTAL,
      filtered_by: [],
      sorted_by: [{ id: 'desc' }],
    }
    assert.deepEqual({ ...first, records: [] }, { ...envelope, records: [] })
    assert.deepEqual(ids(first.records), ids(rules).reverse())
    assert.deepEqual(await walk(''), ids(rules).reverse())
    assert.deepEqual(await walk('&sort[code]=asc'), ids([...rules].sort((a, b) => (a.code < b.code ? -1 : 1))))
    const newest = [...rules].sort(newestFirst)
    assert.deepEqual(await walk('&sort[created_at]=desc'), ids(newest))
  })

  const pivot = () => rules[TOTAL / 2 - 1]?.created_at ?? ''
  const filters: Array<[string, (rule: Rule) => boolean]> = [
    ['filter[code][eq]=c07', (rule) => rule.code === 'c07'],
    ['filter[code][like]=C1', (rule) => rule.code.startsWith('c1')],
    ['filter[code][include]=c03,c21,zz', (rule) => rule.code === 'c03' || rule.code === 'c21'],
    ['filter[name][like]=rule%202', (rule) => String(rule.name).startsWith('Rule 2')],
    ['filter[priority_handling][eq]=ignore', (rule) => rule.priority_handling === 'ignore'],
    [
      'filter[priority_handling][include]=off,critical',
      (rule) => rule.priority_handling === 'off' || rule.priority_handling === 'critical',
    ],
    ['filter[created_at][gt]=<the 15th created_at>', (rule) => rule.created_at > pivot()],
  ]
  for (const [query, expected] of filters) {
    it(`filters with ${query}`, async () => {
      const response = await get(`/api/v1/fault_rules?per_page=100&${query.replace('<the 15th created_at>', pivot())}`)
      assert.equal(response.statusCode, 200, response.body)
      const matching = ids(rules.filter(expected)).reverse()
      assert.ok(matching.length > 0 && matching.length < TOTAL)
      assert.deepEqual(ids((response.json() as Page<Rule>).records), matching)
    })
  }

  it('answers 400 naming an unknown filter field, operator or value, a bad per_page or start_cursor', async () => {
    const cursor = String(((await get('/api/v1/fault_rules?per_page=7')).json() as Page<Rule>).next_cursor)
    const cases: Array<[string, string]> = [
      ['filter[vehicle_id][eq]=1', 'filter[vehicle_id][eq]'],
      ['filter[code][gt]=c', 'filter[code][gt]'],
      ['filter[priority_handling][eq]=urgent', 'filter[priority_handling][eq]'],
      ['per_page=0', 'per_page'],
      ['per_page=101', 'per_page'],
      [`start_cursor=${tampered(cursor)}`, 'start_cursor'],
    ]
    for (const [query, parameter] of cases) {
      const body = expectProblem(await get(`/api/v1/fault_rules?${query}`), 400, '/problems/invalid-parameter')
      assert.equal(body.parameter, parameter, query)
    }
  })

  it('answers a HAL list with _embedded.records and _links self and next', async () => {
    const url = '/api/v1/fault_rules?per_page=7&sort[code]=asc'
    const response = await get(url, { accept: 'application/hal+json' })
    assert.match(String(response.headers['content-type']), /^application\/hal\+json/)
    const body = response.json()
    assert.equal(body.records, undefined)
    assert.equal(body._links.self.href, url)
    assert.equal(`<${body._links.next.href}>; rel="next"`, response.headers.link)
    assert.deepEqual(
      body._embedded.records.map((record: Rule & { _links: { self: { href: string } } }) => record._links.self.href),
      [...rules]
        .sort((a, b) => (a.code < b.code ? -1 : 1))
        .slice(0, 7)
        .map((rule) => `/api/v1/fault_rules/${rule.id}`),
    )
    const next = (await get(body._links.next.href, { accept: 'application/hal+json' })).json()
    assert.equal(next._embedded.records[0].code, 'c07')
  })
})
