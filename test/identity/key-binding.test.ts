// Keys an admin makes for another member are bound to the account they were made in: an admin of one
// account cannot borrow a member's standing in the member's other accounts, nor see or revoke their own keys.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { type Caller, keyHeaders, makeAccount, makeMember, type TestAccount } from '../helpers/factories.js'
import type { Headers, Injected } from '../helpers/requests.js'

describe(`keys bound to an account (${engine})`, () => {
  let t: TestApp
  /** Account A, as alice: its admin. */
  let alice: TestAccount
  /** Another admin of A. */
  let carol: Caller
  /** An editor of A. */
  let dave: Caller
  /** Account B, as its admin: the one who tries to escalate. */
  let bob: TestAccount
  /** The key bob made for alice in B (step 2). */
  let borrowed: { id: number; secret: string }
  /** Keys of alice's that bob must not reach: her own, made in A, and one bound to A. */
  let hers: { own: { id: number; secret: string }; boundToA: { id: number; secret: string } }
  /** A key alice made in A for dave: bound to A. */
  let davesFromA: number

  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000', RATE_LIMIT_QUOTA: '100000' } })
    alice = await makeAccount(t.app, 'Acme')
    carol = await makeMember(t.app, alice, 'admin')
    dave = await makeMember(t.app, alice, 'editor')
    bob = await makeAccount(t.app, 'Bobco')
    const made = async (headers: Headers, payload: object) => {
      const response = await call('POST', '/api/v1/api_keys', headers, payload)
      assert.equal(response.statusCode, 201, response.body)
      return { id: response.json().id as number, secret: response.json().api_key as string }
    }
    hers = { own: await made(alice.headers, { name: 'mine' }), boundToA: await made(carol.headers, { user_id: alice.userId }) }
    davesFromA = (await made(alice.headers, { user_id: dave.userId })).id

    // Step 1: bob adds alice (A's admin) to B, as an admin even. Step 2: bob makes a key for her.
    const email = (await call('GET', '/api/v1/users/me', alice.headers)).json().email
    const added = await call('POST', '/api/v1/users', bob.headers, { email, role: 'admin' })
    assert.equal(added.statusCode, 201, added.body)
    borrowed = await made(bob.headers, { name: 'for alice', user_id: alice.userId })
  })
  after(() => t.close())

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Headers, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
  const keyOnly = (secret: string) => ({ authorization: `Token ${secret}` })
  const records = (response: Injected) => {
    assert.equal(response.statusCode, 200, response.body)
    return response.json().records as Record<string, unknown>[]
  }
  const keyIds = async (headers: Headers) => records(await call('GET', '/api/v1/api_keys?per_page=100', headers)).map((r) => r.id)

  /** What a 401 shows a caller: everything but the request id and the failure count. */
  const visible = (response: Injected) => {
    const body = expectProblem(response, 401, '/problems/authentication-required')
    const names = Object.keys(response.headers).filter((name) => !/^(x-request-id|ratelimit|date)/.test(name))
    const headers = Object.fromEntries(names.sort().map((name) => [name, name === 'content-length' ? 0 : response.headers[name]]))
    return { body: { ...body, instance: null }, headers }
  }

  it('binds the key bob made for alice to B', async () => {
    const listed = records(await call('GET', '/api/v1/api_keys?per_page=100', bob.headers))
    assert.deepEqual(
      listed.filter((key) => key.user_id === alice.userId).map((key) => [key.id, key.account_id]),
      [[borrowed.id, bob.accountId]],
    )
  })

  it('step 3: GET /accounts with that key lists only B, and nothing of A', async () => {
    for (const headers of [keyOnly(borrowed.secret), keyHeaders(borrowed.secret, bob.accountToken)]) {
      const response = await call('GET', '/api/v1/accounts', headers)
      assert.deepEqual(
        records(response).map((account) => [account.id, account.account_token, account.role]),
        [[bob.accountId, bob.accountToken, 'admin']],
      )
      assert.ok(!response.body.includes(alice.accountToken), "A's account token")
      assert.doesNotMatch(response.body, /Acme/)
    }
    const filtered = await call('GET', `/api/v1/accounts?filter[id][eq]=${alice.accountId}`, keyOnly(borrowed.secret))
    assert.deepEqual(records(filtered), [], 'a filter does not reach A either')
  })

  it("step 4: the key with A's Account-Token is refused exactly like a non-member's key", async () => {
    const foreign = keyHeaders(borrowed.secret, alice.accountToken)
    const nonMember = keyHeaders(bob.apiKey, alice.accountToken)
    for (const url of ['/api/v1/users', '/api/v1/users/me', '/api/v1/accounts', '/api/v1/api_keys', '/api/v1/faults']) {
      assert.deepEqual(visible(await call('GET', url, foreign)), visible(await call('GET', url, nonMember)), url)
    }
    const refused = await call('POST', '/api/v1/users', foreign, { email: 'mallory@example.com', role: 'admin' })
    assert.deepEqual(visible(refused), visible(await call('POST', '/api/v1/users', nonMember, { email: 'm@example.com', role: 'admin' })))
    const unknown = keyHeaders(borrowed.secret, 'no-such-account-token')
    assert.deepEqual(visible(await call('GET', '/api/v1/users', unknown)), visible(await call('GET', '/api/v1/users', nonMember)))
  })

  it('works in B, as the member it was made for (with her role there)', async () => {
    const inB = keyHeaders(borrowed.secret, bob.accountToken)
    const me = await call('GET', '/api/v1/users/me', inB)
    assert.deepEqual([me.json().id, me.json().role], [alice.userId, 'admin'])
    assert.equal((await call('GET', '/api/v1/users', inB)).statusCode, 200)
    assert.equal((await call('GET', '/api/v1/faults', inB)).statusCode, 200)
  })

  it('answers /users/me without Account-Token as B knows alice: no name or date that A wrote', async () => {
    const response = await call('GET', '/api/v1/users/me', keyOnly(borrowed.secret))
    assert.equal(response.statusCode, 200, response.body)
    const inB = (await call('GET', `/api/v1/users/${alice.userId}`, bob.headers)).json()
    assert.deepEqual(response.json(), { ...inB, role: null })
    assert.doesNotMatch(response.body, /Ada|Admin"/, 'the names alice was created with in A')
  })

  it('still answers 401 without Account-Token on account routes', async () => {
    expectProblem(await call('GET', '/api/v1/users', keyOnly(borrowed.secret)), 401, '/problems/authentication-required')
  })

  it("makes only B-bound keys, even alice's own: no way out of B through a new key", async () => {
    for (const payload of [{}, { user_id: alice.userId }]) {
      const response = await call('POST', '/api/v1/api_keys', keyHeaders(borrowed.secret, bob.accountToken), payload)
      assert.equal(response.statusCode, 201, response.body)
      assert.equal(response.json().account_id, bob.accountId)
      const secret = response.json().api_key
      expectProblem(await call('GET', '/api/v1/users', keyHeaders(secret, alice.accountToken)), 401, '/problems/authentication-required')
      assert.deepEqual(
        records(await call('GET', '/api/v1/accounts', keyOnly(secret))).map((account) => account.id),
        [bob.accountId],
      )
    }
  })

  it("does not list alice's own keys, or keys bound to A, to B's admin or to the borrowed key", async () => {
    const theirs = [alice.apiKey, hers.own.secret, hers.boundToA.secret].map((secret) => secret.slice(0, 12))
    for (const headers of [bob.headers, keyHeaders(borrowed.secret, bob.accountToken)]) {
      const listed = records(await call('GET', '/api/v1/api_keys?per_page=100', headers))
      assert.ok(listed.every((key) => key.account_id === bob.accountId || key.user_id === bob.userId))
      assert.ok(!listed.some((key) => theirs.includes(String(key.prefix))))
      assert.ok(!listed.some((key) => key.id === hers.own.id || key.id === hers.boundToA.id || key.id === davesFromA))
      const probe = records(await call('GET', `/api/v1/api_keys?per_page=100&filter[user_id][eq]=${alice.userId}`, headers))
      assert.ok(probe.every((key) => key.account_id === bob.accountId))
    }
  })

  it("answers 404, as for a missing id, when B's admin or the borrowed key revokes alice's keys; they keep working", async () => {
    const missing = visible404(await call('DELETE', '/api/v1/api_keys/999999999', bob.headers))
    for (const headers of [bob.headers, keyHeaders(borrowed.secret, bob.accountToken)]) {
      for (const id of [hers.own.id, hers.boundToA.id, davesFromA]) {
        assert.deepEqual(visible404(await call('DELETE', `/api/v1/api_keys/${id}`, headers)), missing, `key ${id}`)
      }
    }
    for (const secret of [alice.apiKey, hers.own.secret, hers.boundToA.secret]) {
      assert.equal((await call('GET', '/api/v1/users', keyHeaders(secret, alice.accountToken))).statusCode, 200)
    }
  })

  it('lets alice see every key of hers, the one bob bound to B included', async () => {
    const mine = records(await call('GET', '/api/v1/api_keys?per_page=100', alice.headers))
    const ids = mine.map((key) => key.id)
    for (const id of [hers.own.id, hers.boundToA.id, borrowed.id]) assert.ok(ids.includes(id), `key ${id}`)
    assert.equal(mine.find((key) => key.id === borrowed.id)?.account_id, bob.accountId)
    assert.ok(ids.includes(davesFromA), "A's admin sees the key she bound to A for dave")
    assert.ok(!(await keyIds(dave.headers)).includes(hers.boundToA.id), 'an editor sees only their own')
  })

  it("keeps alice's own keys working in all her accounts", async () => {
    for (const secret of [alice.apiKey, hers.own.secret]) {
      for (const account of [alice, bob]) {
        assert.equal((await call('GET', '/api/v1/users', keyHeaders(secret, account.accountToken))).statusCode, 200)
      }
      const accounts = records(await call('GET', '/api/v1/accounts', keyOnly(secret))).map((account) => account.id)
      assert.deepEqual(accounts.sort(), [alice.accountId, bob.accountId].sort())
    }
    const refused = await call('GET', '/api/v1/users', keyHeaders(hers.boundToA.secret, bob.accountToken))
    expectProblem(refused, 401, '/problems/authentication-required')
  })

  it('refuses a bound key everywhere once its member leaves the account, key-only calls too', async () => {
    assert.equal((await call('DELETE', `/api/v1/users/${alice.userId}`, bob.headers)).statusCode, 204)
    for (const url of ['/api/v1/users/me', '/api/v1/accounts']) {
      expectProblem(await call('GET', url, keyOnly(borrowed.secret)), 401, '/problems/authentication-required')
    }
    const inB = await call('GET', '/api/v1/users', keyHeaders(borrowed.secret, bob.accountToken))
    expectProblem(inB, 401, '/problems/authentication-required')
    assert.ok((await keyIds(bob.headers)).includes(borrowed.id), "B's admin still sees, and may revoke, the key bound to B")
    assert.equal((await call('DELETE', `/api/v1/api_keys/${borrowed.id}`, bob.headers)).statusCode, 204)
  })

  const visible404 = (response: Injected) => ({ ...expectProblem(response, 404), instance: null })
})
