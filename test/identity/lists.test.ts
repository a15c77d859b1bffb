// The identity lists (CONTRACT §6): GET /users, /api_keys, /oauth_clients and /accounts — envelope, paging, filters, HAL.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Role } from '../../src/http/access.js'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { type Caller, keyHeaders, makeAccount, makeClient, makeMember, type TestAccount } from '../helpers/factories.js'
import { API_KEY_FIELDS } from '../helpers/requests.js'

type Injected = Awaited<ReturnType<TestApp['app']['inject']>>
type Row = Record<string, unknown> & { id: number }

const ENVELOPE = ['estimated_remaining_count', 'filtered_by', 'next_cursor', 'per_page', 'records', 'sorted_by', 'start_cursor']

/** Asserts the envelope, the Link header and (unless sorted otherwise) the default order; returns the body. */
function expectPage(response: Injected, idDesc = true): { next_cursor: string | null; records: Row[] } & Record<string, unknown> {
  assert.equal(response.statusCode, 200, response.body)
  assert.match(String(response.headers['content-type']), /^application\/json/)
  assert.equal(response.headers['cache-control'], 'no-store')
  const body = response.json()
  assert.deepEqual(Object.keys(body).sort(), ENVELOPE)
  const ids = body.records.map((record: Row) => record.id)
  if (idDesc)
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
      'id desc',
    )
  if (body.next_cursor) assert.match(String(response.headers.link), /^<\/api\/v1\/[^>]+start_cursor=[^>]+>; rel="next"$/)
  else assert.equal(response.headers.link, undefined, 'no Link on the last page')
  return body
}

describe(`identity lists (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  const members: Record<Role, Caller[]> = { admin: [], editor: [], viewer: [] }
  let secrets: string[]
  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000', RATE_LIMIT_QUOTA: '100000' } })
    acme = await makeAccount(t.app, 'Acme')
    members.admin.push(acme)
    for (const role of ['editor', 'viewer', 'viewer', 'editor', 'viewer'] as const) members[role].push(await makeMember(t.app, acme, role))
    secrets = [...members.admin, ...members.editor, ...members.viewer].map((caller) => caller.apiKey)
  })
  after(() => t.close())

  const get = (url: string, headers: Record<string, string> = acme.headers) => t.app.inject({ url, headers })

  /** Follows next_cursor from the first page to the last, by the Link header; every record once. */
  async function walk(url: string, headers: Record<string, string> = acme.headers): Promise<{ pages: number; records: Row[] }> {
    const records: Row[] = []
    let next: string | null = url
    let pages = 0
    while (next) {
      const response = await get(next, headers)
      const page = expectPage(response)
      records.push(...page.records)
      pages++
      next = page.next_cursor ? String(response.headers.link).slice(1, String(response.headers.link).indexOf('>')) : null
      assert.ok(pages < 50, 'the walk ends')
    }
    const ids = records.map((record) => record.id)
    assert.equal(new Set(ids).size, ids.length, 'no record twice')
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
      'id desc across pages',
    )
    return { pages, records }
  }

  describe('GET /users', () => {
    it('answers the Fleetio envelope: every member with their role, newest first, 50 a page by default', async () => {
      const page = expectPage(await get('/api/v1/users'))
      assert.equal(page.start_cursor, null)
      assert.equal(page.next_cursor, null)
      assert.equal(page.per_page, 50)
      assert.equal(page.estimated_remaining_count, 6)
      assert.deepEqual(page.filtered_by, [])
      assert.deepEqual(page.sorted_by, [{ id: 'desc' }])
      assert.equal(page.records.length, 6)
      const first = page.records.find((record) => record.id === acme.userId)
      assert.deepEqual(Object.keys(first ?? {}).sort(), ['created_at', 'email', 'first_name', 'id', 'last_name', 'role'])
      assert.equal(first?.role, 'admin')
      const roles = Object.fromEntries(page.records.map((record) => [record.id, record.role]))
      for (const [role, callers] of Object.entries(members)) for (const caller of callers) assert.equal(roles[caller.userId], role)
    })

    it('pages through every member with per_page and next_cursor, following Link', async () => {
      const all = expectPage(await get('/api/v1/users')).records.map((record) => record.id)
      const first = expectPage(await get('/api/v1/users?per_page=4'))
      assert.equal(first.records.length, 4)
      assert.equal(first.estimated_remaining_count, 6, 'counts from this page on, this page included')
      const { pages, records } = await walk('/api/v1/users?per_page=4')
      assert.equal(pages, 2)
      assert.deepEqual(
        records.map((record) => record.id),
        all,
      )
      const ones = await walk('/api/v1/users?per_page=1')
      assert.equal(ones.pages, 6)
    })

    it('echoes the cursor a page started at', async () => {
      const first = expectPage(await get('/api/v1/users?per_page=2'))
      const second = expectPage(await get(`/api/v1/users?per_page=2&start_cursor=${encodeURIComponent(String(first.next_cursor))}`))
      assert.equal(second.start_cursor, first.next_cursor)
      assert.equal(second.estimated_remaining_count, 4)
    })

    it('filters by role and email, and says so in filtered_by', async () => {
      const viewers = expectPage(await get('/api/v1/users?filter[role][eq]=viewer'))
      assert.deepEqual(viewers.filtered_by, [{ role: { eq: 'viewer' } }])
      assert.deepEqual(viewers.records.map((record) => record.id).sort(), members.viewer.map((caller) => caller.userId).sort())
      const staff = expectPage(await get('/api/v1/users?filter[role][include]=admin,editor'))
      assert.equal(staff.records.length, 3)
      const editors = expectPage(await get('/api/v1/users?filter[email][like]=EDITOR-'))
      assert.deepEqual(editors.records.map((record) => record.id).sort(), members.editor.map((caller) => caller.userId).sort())
      const { records } = await walk('/api/v1/users?filter[role][eq]=viewer&per_page=1')
      assert.equal(records.length, 3)
    })

    it('sorts by created_at in either direction', async () => {
      for (const direction of ['asc', 'desc'] as const) {
        const page = expectPage(await get(`/api/v1/users?sort[created_at]=${direction}&per_page=100`), false)
        assert.deepEqual(page.sorted_by, [{ created_at: direction }])
        const times = page.records.map((record) => String(record.created_at))
        const sorted = [...times].sort()
        assert.deepEqual(times, direction === 'asc' ? sorted : sorted.reverse())
        const second = expectPage(await get(`/api/v1/users?sort[created_at]=${direction}&per_page=3`), false)
        const rest = expectPage(
          await get(
            `/api/v1/users?sort[created_at]=${direction}&per_page=3&start_cursor=${encodeURIComponent(String(second.next_cursor))}`,
          ),
          false,
        )
        assert.deepEqual(
          [...second.records, ...rest.records].map((record) => record.id),
          page.records.map((record) => record.id),
        )
      }
    })

    it('answers 400 naming the parameter for a bad per_page, filter, sort or cursor', async () => {
      const cases: [string, string][] = [
        ['per_page=0', 'per_page'],
        ['per_page=101', 'per_page'],
        ['filter[password][eq]=x', 'filter[password][eq]'],
        ['filter[role][eq]=owner', 'filter[role][eq]'],
        ['sort[email]=asc', 'sort[email]'],
        ['start_cursor=not-a-cursor', 'start_cursor'],
      ]
      for (const [query, parameter] of cases) {
        const body = expectProblem(await get(`/api/v1/users?${query}`), 400, '/problems/invalid-parameter')
        assert.equal(body.parameter, parameter, query)
      }
    })

    it('does not take a cursor of another list', async () => {
      const keys = expectPage(await get('/api/v1/api_keys?per_page=1'))
      const body = expectProblem(
        await get(`/api/v1/users?per_page=1&start_cursor=${encodeURIComponent(String(keys.next_cursor))}`),
        400,
        '/problems/invalid-parameter',
      )
      assert.equal(body.parameter, 'start_cursor')
    })

    it('answers HAL on request: records under _embedded with a self link each, and _links.next', async () => {
      const response = await get('/api/v1/users?per_page=2', { ...acme.headers, accept: 'application/hal+json' })
      assert.equal(response.statusCode, 200)
      assert.match(String(response.headers['content-type']), /^application\/hal\+json/)
      const body = response.json()
      assert.equal(body._links.self.href, '/api/v1/users?per_page=2')
      assert.match(body._links.next.href, /^\/api\/v1\/users\?per_page=2&start_cursor=/)
      assert.equal(body._embedded.records.length, 2)
      for (const record of body._embedded.records) assert.equal(record._links.self.href, `/api/v1/users/${record.id}`)
      assert.equal(body.records, undefined)
    })

    it('is open to every member, not to a bearer token', async () => {
      for (const caller of [...members.editor, ...members.viewer])
        assert.equal((await get('/api/v1/users', caller.headers)).statusCode, 200)
      const client = await makeClient(t.app, acme, ['faults:read'])
      const token = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
      })
      expectProblem(await get('/api/v1/users', { authorization: `Bearer ${token.json().access_token}` }), 403, '/problems/forbidden')
    })
  })

  describe('GET /api_keys', () => {
    /** The keys the admin made for each other member: bound to Acme. */
    const bound = new Map<number, number>()
    before(async () => {
      for (const caller of [...members.editor, ...members.viewer]) {
        const payload = { name: 'made by the admin', user_id: caller.userId }
        const made = await t.app.inject({ method: 'POST', url: '/api/v1/api_keys', headers: acme.headers, payload })
        assert.equal(made.statusCode, 201, made.body)
        bound.set(caller.userId, made.json().id)
      }
    })

    it("shows a member all their own live keys; an admin theirs and those bound to the account, not a member's own; never a secret", async () => {
      const viewer = members.viewer[0] as Caller
      const extra = await t.app.inject({ method: 'POST', url: '/api/v1/api_keys', headers: viewer.headers, payload: { name: 'extra' } })
      const revoked = await t.app.inject({ method: 'POST', url: '/api/v1/api_keys', headers: viewer.headers, payload: { name: 'gone' } })
      await t.app.inject({ method: 'DELETE', url: `/api/v1/api_keys/${revoked.json().id}`, headers: viewer.headers })

      const own = expectPage(await get('/api/v1/api_keys', viewer.headers))
      assert.ok(own.records.every((record) => record.user_id === viewer.userId))
      assert.equal(own.records.length, 3, 'the factory key, "extra" and the one the admin made; not the revoked one')
      assert.ok(own.records.some((record) => record.id === extra.json().id && record.account_id === null))
      assert.ok(own.records.some((record) => record.id === bound.get(viewer.userId) && record.account_id === acme.accountId))
      assert.ok(!own.records.some((record) => record.id === revoked.json().id))

      const all = await get('/api/v1/api_keys?per_page=100', acme.headers)
      const page = expectPage(all)
      const prefixes = new Set(page.records.map((record) => record.prefix))
      assert.ok(prefixes.has(acme.apiKey.slice(0, 12)), "the admin's own key")
      for (const caller of [...members.editor, ...members.viewer]) {
        assert.ok(!prefixes.has(caller.apiKey.slice(0, 12)), "not a member's own key")
        assert.ok(
          page.records.some((record) => record.id === bound.get(caller.userId)),
          'the key the admin made for them',
        )
      }
      assert.ok(!page.records.some((record) => record.id === extra.json().id || record.id === revoked.json().id))
      assert.ok(page.records.every((record) => record.user_id === acme.userId || record.account_id === acme.accountId))
      const [record] = page.records
      assert.deepEqual(Object.keys(record ?? {}).sort(), API_KEY_FIELDS)
      for (const secret of [...secrets, extra.json().api_key]) assert.ok(!all.body.includes(secret), 'no secret in a list')
    })

    it('filters by user_id and pages', async () => {
      const editor = members.editor[0] as Caller
      const theirs = expectPage(await get(`/api/v1/api_keys?filter[user_id][eq]=${editor.userId}`))
      assert.deepEqual(theirs.filtered_by, [{ user_id: { eq: editor.userId } }])
      assert.deepEqual(
        theirs.records.map((record) => record.id),
        [bound.get(editor.userId)],
      )
      const everyone = expectPage(await get('/api/v1/api_keys?per_page=100'))
      const { records } = await walk('/api/v1/api_keys?per_page=3')
      assert.deepEqual(
        records.map((record) => record.id),
        everyone.records.map((record) => record.id),
      )
    })

    it('links each key and its user in HAL', async () => {
      const body = (await get('/api/v1/api_keys?per_page=1', { ...acme.headers, accept: 'application/hal+json' })).json()
      const [record] = body._embedded.records
      assert.equal(record._links.self.href, `/api/v1/api_keys/${record.id}`)
      assert.equal(record._links.user.href, `/api/v1/users/${record.user_id}`)
    })
  })

  describe('GET /oauth_clients', () => {
    it('shows an admin the live clients, never a secret, and pages', async () => {
      const made = [] as Awaited<ReturnType<typeof makeClient>>[]
      for (const scopes of [['faults:read'], ['faults:read', 'faults:write'], ['vehicles:read']] as const) {
        made.push(await makeClient(t.app, acme, [...scopes]))
      }
      const gone = made.pop()
      await t.app.inject({ method: 'DELETE', url: `/api/v1/oauth_clients/${gone?.id}`, headers: acme.headers })

      const response = await get('/api/v1/oauth_clients?per_page=100')
      const page = expectPage(response)
      const ids = page.records.map((record) => record.id)
      for (const client of made) assert.ok(ids.includes(client.id))
      assert.ok(!ids.includes(Number(gone?.id)), 'a revoked client is not listed')
      const record = page.records.find((r) => r.id === made[1]?.id)
      assert.deepEqual(Object.keys(record ?? {}).sort(), ['client_id', 'created_at', 'id', 'name', 'scopes'])
      assert.deepEqual(record?.scopes, ['faults:read', 'faults:write'])
      for (const client of [...made, gone]) assert.ok(!response.body.includes(String(client?.clientSecret)), 'no secret in a list')
      const { records } = await walk('/api/v1/oauth_clients?per_page=1')
      assert.deepEqual(
        records.map((r) => r.id),
        ids,
      )
    })

    it('is for admins only', async () => {
      for (const caller of [...members.editor, ...members.viewer]) {
        expectProblem(await get('/api/v1/oauth_clients', caller.headers), 403, '/problems/forbidden')
      }
    })
  })

  describe('GET /accounts', () => {
    it("needs only the key and lists the caller's accounts with the role in each", async () => {
      const viewer = members.viewer[1] as Caller
      const me = (await get('/api/v1/users/me', viewer.headers)).json()
      const roles: Record<number, Role> = { [acme.accountId]: 'viewer' }
      for (const [name, role] of [
        ['Globex', 'admin'],
        ['Initech', 'editor'],
      ] as const) {
        const other = await makeAccount(t.app, name)
        const added = await t.app.inject({
          method: 'POST',
          url: '/api/v1/users',
          headers: other.headers,
          payload: { email: me.email, role },
        })
        assert.equal(added.statusCode, 201, added.body)
        roles[other.accountId] = role
      }
      const response = await get('/api/v1/accounts', { authorization: `Token ${viewer.apiKey}` })
      const page = expectPage(response)
      assert.equal(page.records.length, 3)
      for (const record of page.records) {
        assert.deepEqual(Object.keys(record).sort(), ['account_token', 'id', 'name', 'role'])
        assert.equal(record.role, roles[record.id])
      }
      const acmeRecord = page.records.find((record) => record.id === acme.accountId)
      assert.equal(acmeRecord?.account_token, acme.accountToken)
      assert.equal(acmeRecord?.name, 'Acme')
      // Each account token works with the key, in the role the list says.
      for (const record of page.records) {
        const inAccount = await get('/api/v1/users/me', keyHeaders(viewer.apiKey, String(record.account_token)))
        assert.equal(inAccount.json().role, record.role)
      }
      // An Account-Token beside the key changes nothing: the list is of the user's accounts.
      assert.deepEqual(expectPage(await get('/api/v1/accounts', viewer.headers)).records, page.records)
      const { pages, records } = await walk('/api/v1/accounts?per_page=1', { authorization: `Token ${viewer.apiKey}` })
      assert.equal(pages, 3)
      assert.deepEqual(records, page.records)
      const admins = expectPage(await get('/api/v1/accounts?filter[role][eq]=admin', { authorization: `Token ${viewer.apiKey}` }))
      assert.deepEqual(
        admins.records.map((record) => record.role),
        ['admin'],
      )
    })

    it('gives each account a HAL self link that answers it alone', async () => {
      const response = await get('/api/v1/accounts', { authorization: `Token ${acme.apiKey}`, accept: 'application/hal+json' })
      const [record] = response.json()._embedded.records
      assert.equal(record._links.self.href, `/api/v1/accounts?filter[id][eq]=${acme.accountId}`)
      const self = expectPage(await get(record._links.self.href, { authorization: `Token ${acme.apiKey}` }))
      assert.deepEqual(
        self.records.map((r) => r.id),
        [acme.accountId],
      )
    })

    it('answers 401 without a key', async () => {
      expectProblem(await get('/api/v1/accounts', {}), 401, '/problems/authentication-required')
    })
  })

  it('declares every list in OpenAPI with both media types', async () => {
    const document = (await get('/openapi.json', {})).json()
    for (const path of ['/api/v1/users', '/api/v1/api_keys', '/api/v1/oauth_clients', '/api/v1/accounts']) {
      const ok = document.paths[path].get.responses['200']
      assert.ok(ok.content['application/json'].schema, path)
      assert.ok(ok.content['application/hal+json'].schema, path)
      assert.ok(ok.headers.Link, path)
      const parameters = document.paths[path].get.parameters.map((parameter: { name: string }) => parameter.name)
      assert.ok(parameters.includes('per_page') && parameters.includes('start_cursor'), path)
      assert.ok(document.paths[path].get.responses['401'], path)
    }
  })
})
