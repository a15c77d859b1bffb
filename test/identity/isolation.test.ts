// Two accounts see nothing of each other through any identity endpoint (CONTRACT §1): another account's id is a 404.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { type Caller, keyHeaders, makeAccount, makeClient, makeMember, ownKey, type TestAccount } from '../helpers/factories.js'

type Injected = Awaited<ReturnType<TestApp['app']['inject']>>

interface Tenant {
  admin: TestAccount
  editor: Caller
  /** A key of the editor's, made through the API. */
  keyId: number
  keySecret: string
  client: Awaited<ReturnType<typeof makeClient>>
}

describe(`isolation between accounts (${engine})`, () => {
  let t: TestApp
  let acme: Tenant
  let globex: Tenant

  async function tenant(name: string): Promise<Tenant> {
    const admin = await makeAccount(t.app, name)
    const editor = await makeMember(t.app, admin, 'editor')
    const key = await t.app.inject({ method: 'POST', url: '/api/v1/api_keys', headers: editor.headers, payload: { name: `${name} key` } })
    assert.equal(key.statusCode, 201)
    const client = await makeClient(t.app, admin, ['faults:read'])
    return { admin, editor, keyId: key.json().id, keySecret: key.json().api_key, client }
  }

  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000', RATE_LIMIT_QUOTA: '100000' } })
    acme = await tenant('Acme')
    globex = await tenant('Globex')
  })
  after(() => t.close())

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })

  /** A 404 that says no more than one for an id that never existed (only the request id differs). */
  async function expectSameAsMissing(response: Injected, missing: () => Promise<Injected>) {
    const body = expectProblem(response, 404)
    const never = expectProblem(await missing(), 404)
    assert.deepEqual({ ...body, instance: null }, { ...never, instance: null })
  }

  const ids = (response: Injected) => {
    assert.equal(response.statusCode, 200, response.body)
    return (response.json().records as { id: number }[]).map((record) => record.id).sort()
  }

  it("answers 404 to GET, PATCH and DELETE /users/:id of the other account's members, and changes nothing", async () => {
    for (const [us, them] of [
      [acme, globex],
      [globex, acme],
    ] as const) {
      for (const userId of [them.admin.userId, them.editor.userId]) {
        await expectSameAsMissing(await call('GET', `/api/v1/users/${userId}`, us.admin.headers), () =>
          call('GET', '/api/v1/users/999999', us.admin.headers),
        )
        await expectSameAsMissing(await call('PATCH', `/api/v1/users/${userId}`, us.admin.headers, { role: 'viewer' }), () =>
          call('PATCH', '/api/v1/users/999999', us.admin.headers, { role: 'viewer' }),
        )
        await expectSameAsMissing(await call('DELETE', `/api/v1/users/${userId}`, us.admin.headers), () =>
          call('DELETE', '/api/v1/users/999999', us.admin.headers),
        )
        assert.equal((await call('GET', `/api/v1/users/${userId}`, us.editor.headers)).statusCode, 404, 'for any role')
      }
      const theirs = await call('GET', `/api/v1/users/${them.editor.userId}`, them.admin.headers)
      assert.equal(theirs.json().role, 'editor', 'their editor is still an editor')
      assert.equal((await call('GET', `/api/v1/users/${them.admin.userId}`, them.admin.headers)).json().role, 'admin')
    }
  })

  it('lists only its own members, keys and clients', async () => {
    for (const [us, them] of [
      [acme, globex],
      [globex, acme],
    ] as const) {
      assert.deepEqual(ids(await call('GET', '/api/v1/users?per_page=100', us.admin.headers)), [us.admin.userId, us.editor.userId].sort())
      const keys = await call('GET', '/api/v1/api_keys?per_page=100', us.admin.headers)
      const owners = new Set((keys.json().records as { user_id: number }[]).map((record) => record.user_id))
      assert.deepEqual([...owners], [us.admin.userId], "the editor's keys are their own: an admin sees only keys bound to the account")
      assert.ok(!ids(keys).includes(them.keyId))
      assert.deepEqual(ids(await call('GET', '/api/v1/oauth_clients?per_page=100', us.admin.headers)), [us.client.id])
      // Filters cannot reach across either.
      const probe = await call('GET', `/api/v1/api_keys?filter[user_id][eq]=${them.editor.userId}`, us.admin.headers)
      assert.deepEqual(ids(probe), [])
    }
  })

  it("answers 404 to DELETE /api_keys/:id of the other account's key, which keeps working", async () => {
    await expectSameAsMissing(await call('DELETE', `/api/v1/api_keys/${globex.keyId}`, acme.admin.headers), () =>
      call('DELETE', '/api/v1/api_keys/999999', acme.admin.headers),
    )
    const me = await call('GET', '/api/v1/users/me', keyHeaders(globex.keySecret, globex.admin.accountToken))
    assert.equal(me.statusCode, 200)
    assert.equal(me.json().id, globex.editor.userId)
  })

  it('answers 404 to POST /api_keys naming a user of the other account: no key is made for them', async () => {
    const before = ids(await call('GET', '/api/v1/api_keys?per_page=100', globex.admin.headers))
    expectProblem(await call('POST', '/api/v1/api_keys', acme.admin.headers, { user_id: globex.editor.userId }), 404)
    assert.deepEqual(ids(await call('GET', '/api/v1/api_keys?per_page=100', globex.admin.headers)), before)
  })

  it("answers 404 to DELETE /oauth_clients/:id of the other account's client, which keeps working", async () => {
    await expectSameAsMissing(await call('DELETE', `/api/v1/oauth_clients/${globex.client.id}`, acme.admin.headers), () =>
      call('DELETE', '/api/v1/oauth_clients/999999', acme.admin.headers),
    )
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: globex.client.clientId, client_secret: globex.client.clientSecret },
    })
    assert.equal(token.statusCode, 200)
  })

  it("lists at GET /accounts only the caller's accounts", async () => {
    for (const tenant of [acme, globex]) {
      for (const caller of [tenant.admin, tenant.editor]) {
        const response = await call('GET', '/api/v1/accounts', { authorization: `Token ${caller.apiKey}` })
        assert.deepEqual(ids(response), [tenant.admin.accountId])
        const [account] = response.json().records
        assert.equal(account.account_token, tenant.admin.accountToken)
        assert.equal(account.role, caller === tenant.admin ? 'admin' : 'editor')
      }
    }
  })

  describe('a user who belongs to both accounts', () => {
    let both: Caller
    before(async () => {
      // Globex's editor is added to Acme as a viewer: one user, one key, two memberships.
      const email = (await call('GET', '/api/v1/users/me', globex.editor.headers)).json().email
      const added = await call('POST', '/api/v1/users', acme.admin.headers, { email, role: 'viewer' })
      assert.equal(added.statusCode, 201, added.body)
      both = globex.editor
    })

    it('sees each account with its role at GET /accounts', async () => {
      const response = await call('GET', '/api/v1/accounts', { authorization: `Token ${both.apiKey}` })
      const records = response.json().records as { id: number; role: string; account_token: string }[]
      assert.deepEqual(
        records.map(({ id, role, account_token }) => ({ id, role, account_token })).sort((a, b) => a.id - b.id),
        [
          { id: acme.admin.accountId, role: 'viewer', account_token: acme.admin.accountToken },
          { id: globex.admin.accountId, role: 'editor', account_token: globex.admin.accountToken },
        ].sort((a, b) => a.id - b.id),
      )
    })

    it('acts in each account with the role it has there, and sees only that account', async () => {
      const inAcme = keyHeaders(both.apiKey, acme.admin.accountToken)
      const inGlobex = keyHeaders(both.apiKey, globex.admin.accountToken)
      assert.equal((await call('GET', '/api/v1/users/me', inAcme)).json().role, 'viewer')
      assert.equal((await call('GET', '/api/v1/users/me', inGlobex)).json().role, 'editor')
      assert.deepEqual(ids(await call('GET', '/api/v1/users', inAcme)), [acme.admin.userId, acme.editor.userId, both.userId].sort())
      assert.deepEqual(ids(await call('GET', '/api/v1/users', inGlobex)), [globex.admin.userId, globex.editor.userId].sort())
      expectProblem(await call('GET', `/api/v1/users/${globex.admin.userId}`, inAcme), 404)
      expectProblem(await call('GET', `/api/v1/users/${acme.editor.userId}`, inGlobex), 404)
      // In Acme a viewer, though an editor elsewhere: the role of the account of the call decides.
      expectProblem(await call('POST', '/api/v1/api_keys', inAcme, { user_id: acme.editor.userId }), 403, '/problems/forbidden')
    })

    it("has its own keys listed to neither account's admin, nor the other account's members", async () => {
      for (const admin of [acme.admin, globex.admin]) {
        const keys = await call('GET', '/api/v1/api_keys?per_page=100', admin.headers)
        const owners = new Set((keys.json().records as { user_id: number }[]).map((record) => record.user_id))
        assert.ok(!owners.has(both.userId), "a member's own keys, whichever account they were made in")
      }
      const acmeKeys = await call('GET', '/api/v1/api_keys?per_page=100', acme.admin.headers)
      assert.ok(!(acmeKeys.json().records as { user_id: number }[]).some((record) => record.user_id === globex.admin.userId))
    })

    it('leaves the other membership alone when removed from one account', async () => {
      assert.equal((await call('DELETE', `/api/v1/users/${both.userId}`, acme.admin.headers)).statusCode, 204)
      const inAcme = keyHeaders(both.apiKey, acme.admin.accountToken)
      expectProblem(await call('GET', `/api/v1/users/${acme.admin.userId}`, inAcme), 401, '/problems/authentication-required')
      assert.equal((await call('GET', '/api/v1/users/me', keyHeaders(both.apiKey, globex.admin.accountToken))).json().role, 'editor')
      assert.deepEqual(ids(await call('GET', '/api/v1/accounts', { authorization: `Token ${both.apiKey}` })), [globex.admin.accountId])
    })
  })

  describe('the names each account gives a member who belongs to both', () => {
    const names = (user: { first_name: unknown; last_name: unknown }) => [user.first_name, user.last_name]
    let email: string
    let userId: number
    before(async () => {
      email = `shared-${Date.now()}@example.com`
      const added = await call('POST', '/api/v1/users', acme.admin.headers, {
        email,
        first_name: 'Alice',
        last_name: 'Secret',
        role: 'editor',
      })
      assert.equal(added.statusCode, 201, added.body)
      userId = added.json().id
    })

    it('are not shown to another account that adds the same user: it sees only what it sent', async () => {
      const bare = await call('POST', '/api/v1/users', globex.admin.headers, { email: email.toUpperCase(), role: 'viewer' })
      assert.equal(bare.statusCode, 201, bare.body)
      assert.equal(bare.json().id, userId, 'the same user')
      assert.deepEqual(names(bare.json()), [null, null])
      for (const url of [`/api/v1/users/${userId}`, `/api/v1/users?filter[email][eq]=${encodeURIComponent(email)}`]) {
        const body = (await call('GET', url, globex.admin.headers)).json()
        assert.deepEqual(names(body.records?.[0] ?? body), [null, null], url)
        assert.doesNotMatch(JSON.stringify(body), /Alice|Secret/, url)
      }
    })

    it("cannot be changed by the other account: its own add and PATCH leave the first account's alone", async () => {
      assert.equal((await call('DELETE', `/api/v1/users/${userId}`, globex.admin.headers)).statusCode, 204)
      const readded = await call('POST', '/api/v1/users', globex.admin.headers, { email, first_name: 'Al', last_name: 'G.', role: 'admin' })
      assert.equal(readded.statusCode, 201, readded.body)
      assert.deepEqual(names(readded.json()), ['Al', 'G.'])
      const patch = await call('PATCH', `/api/v1/users/${userId}`, globex.admin.headers, { role: 'viewer', first_name: 'Mallory' })
      assert.equal(patch.statusCode, 204, patch.body)

      const inAcme = (await call('GET', `/api/v1/users/${userId}`, acme.admin.headers)).json()
      assert.deepEqual([...names(inAcme), inAcme.role], ['Alice', 'Secret', 'editor'])
      const inGlobex = (await call('GET', `/api/v1/users/${userId}`, globex.admin.headers)).json()
      assert.deepEqual([...names(inGlobex), inGlobex.role], ['Al', 'G.', 'viewer'])
    })

    it("are shown to the member as each account knows them at /users/me, with the member's own key", async () => {
      const secret = await ownKey(t.app, userId)
      assert.deepEqual(names((await call('GET', '/api/v1/users/me', keyHeaders(secret, acme.admin.accountToken))).json()), [
        'Alice',
        'Secret',
      ])
      assert.deepEqual(names((await call('GET', '/api/v1/users/me', keyHeaders(secret, globex.admin.accountToken))).json()), ['Al', 'G.'])
      const own = (await call('GET', '/api/v1/users/me', { authorization: `Token ${secret}` })).json()
      assert.deepEqual([...names(own), own.role], ['Alice', 'Secret', null], 'without an account: the names the user was created with')
    })

    it("are shown to a key an account's admin made for the member only as that account knows them", async () => {
      const key = await call('POST', '/api/v1/api_keys', globex.admin.headers, { user_id: userId })
      assert.equal(key.statusCode, 201, key.body)
      const secret = key.json().api_key
      const inGlobex = (await call('GET', '/api/v1/users/me', keyHeaders(secret, globex.admin.accountToken))).json()
      assert.deepEqual([...names(inGlobex), inGlobex.role], ['Al', 'G.', 'viewer'])
      expectProblem(
        await call('GET', '/api/v1/users/me', keyHeaders(secret, acme.admin.accountToken)),
        401,
        '/problems/authentication-required',
      )
      const bare = await call('GET', '/api/v1/users/me', { authorization: `Token ${secret}` })
      assert.equal(bare.statusCode, 200, bare.body)
      assert.deepEqual(
        [...names(bare.json()), bare.json().role],
        ['Al', 'G.', null],
        "Globex's names, not the ones Acme created the user with",
      )
      assert.doesNotMatch(bare.body, /Alice|Secret/)
    })
  })

  it('does not take a cursor of the other account', async () => {
    const extra = await makeMember(t.app, acme.admin, 'viewer')
    assert.ok(extra.userId > 0)
    const page = (await call('GET', '/api/v1/users?per_page=1', acme.admin.headers)).json()
    assert.ok(page.next_cursor)
    const body = expectProblem(
      await call('GET', `/api/v1/users?per_page=1&start_cursor=${encodeURIComponent(page.next_cursor)}`, globex.admin.headers),
      400,
      '/problems/invalid-parameter',
    )
    assert.equal(body.parameter, 'start_cursor')
  })
})
