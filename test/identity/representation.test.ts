// Identity resources answer like every resource (CONTRACT §3, §9): ETag and 304, HAL, Prefer, If-Match.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { type Caller, makeAccount, makeMember, type TestAccount } from '../helpers/factories.js'

describe(`identity representations (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let viewer: Caller
  before(async () => {
    t = await buildTestApp()
    acme = await makeAccount(t.app)
    viewer = await makeMember(t.app, acme, 'viewer')
  })
  after(() => t.close())

  const call = (method: 'GET' | 'PATCH' | 'POST', url: string, headers: Record<string, string> = {}, payload?: object) =>
    t.app.inject({ method, url, headers: { ...acme.headers, ...headers }, ...(payload ? { payload } : {}) })

  it('gives a user an ETag, and 304 for If-None-Match with it', async () => {
    for (const url of [`/api/v1/users/${viewer.userId}`, '/api/v1/users/me']) {
      const shown = await call('GET', url)
      assert.equal(shown.statusCode, 200)
      assert.match(String(shown.headers.etag), /^"[^"]+"$/)
      const again = await call('GET', url, { 'if-none-match': String(shown.headers.etag) })
      assert.equal(again.statusCode, 304, url)
      assert.equal(again.body, '')
    }
  })

  it('answers HAL with _links.self on request', async () => {
    const shown = await call('GET', `/api/v1/users/${viewer.userId}`, { accept: 'application/hal+json' })
    assert.match(String(shown.headers['content-type']), /^application\/hal\+json/)
    assert.deepEqual(shown.json()._links.self, { href: `/api/v1/users/${viewer.userId}` })
  })

  it('re-roles with 204, or 200 and the user with Prefer: return=representation; a stale If-Match is 412', async () => {
    const url = `/api/v1/users/${viewer.userId}`
    const etag = String((await call('GET', url)).headers.etag)
    const minimal = await call('PATCH', url, { 'if-match': etag }, { role: 'editor' })
    assert.equal(minimal.statusCode, 204)
    assert.notEqual(minimal.headers.etag, etag)
    expectProblem(await call('PATCH', url, { 'if-match': etag }, { role: 'viewer' }), 412)
    const full = await call('PATCH', url, { prefer: 'return=representation' }, { role: 'viewer' })
    assert.equal(full.statusCode, 200)
    assert.equal(full.headers['preference-applied'], 'return=representation')
    assert.equal(full.json().role, 'viewer')
    assert.equal(full.headers.etag, (await call('GET', url)).headers.etag)
  })

  it('creates keys with Location and an ETag', async () => {
    const made = await call('POST', '/api/v1/api_keys', {}, { name: 'ci' })
    assert.equal(made.statusCode, 201)
    assert.equal(made.headers.location, `/api/v1/api_keys/${made.json().id}`)
    assert.match(String(made.headers.etag), /^"[^"]+"$/)
  })
})
