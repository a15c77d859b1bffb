// Every credential failure of CONTRACT §2: status, WWW-Authenticate and body; plus the failure limit.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { loadSigningSecret } from '../../src/modules/identity/tokens.js'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { bearerToken, keyHeaders, makeAccount, makeClient, type TestAccount } from '../helpers/factories.js'

const BOTH = 'Token realm="fleet-faults", Bearer realm="fleet-faults"'
const INVALID_TOKEN = 'Token realm="fleet-faults", Bearer realm="fleet-faults", error="invalid_token"'

describe(`authentication (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let globex: TestAccount
  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000' } })
    acme = await makeAccount(t.app, 'Acme')
    globex = await makeAccount(t.app, 'Globex')
  })
  after(() => t.close())

  const get = (headers: Record<string, string>, url = '/api/v1/users/' + 1) => t.app.inject({ method: 'GET', url, headers })

  function expect401(response: Awaited<ReturnType<typeof get>>, challenge = BOTH) {
    const body = expectProblem(response, 401, '/problems/authentication-required')
    assert.equal(response.headers['www-authenticate'], challenge)
    assert.equal(body.title, 'Authentication required')
    assert.equal(body.detail, 'The request could not be authenticated.')
    assert.equal(response.headers['cache-control'], 'no-store')
  }

  it('accepts a valid key with its Account-Token, in both Token forms', async () => {
    const plain = await get(acme.headers, `/api/v1/users/${acme.userId}`)
    assert.equal(plain.statusCode, 200)
    assert.equal(plain.headers['cache-control'], 'no-store')
    const rails = await get(
      { authorization: `Token token="${acme.apiKey}"`, 'account-token': acme.accountToken },
      `/api/v1/users/${acme.userId}`,
    )
    assert.equal(rails.statusCode, 200)
  })

  it('answers 401 with both challenges when there are no credentials', async () => {
    expect401(await get({}))
  })

  it('answers 401 for a malformed Authorization header', async () => {
    for (const authorization of ['Basic Zm9vOmJhcg==', 'Token', 'ffk_nothing', 'Token token=""']) {
      expect401(await get({ authorization, 'account-token': acme.accountToken }))
    }
  })

  it('answers 401 for an unknown key', async () => {
    expect401(await get(keyHeaders('ffk_this-key-does-not-exist-at-all0', acme.accountToken)))
  })

  it('answers 401 for a revoked key, at once', async () => {
    const made = await t.app.inject({ method: 'POST', url: '/api/v1/api_keys', headers: acme.headers, payload: { name: 'temp' } })
    assert.equal(made.statusCode, 201)
    const { id, api_key: secret } = made.json()
    const headers = keyHeaders(secret, acme.accountToken)
    assert.equal((await get(headers, `/api/v1/users/${acme.userId}`)).statusCode, 200)
    const revoked = await t.app.inject({ method: 'DELETE', url: `/api/v1/api_keys/${id}`, headers: acme.headers })
    assert.equal(revoked.statusCode, 204)
    expect401(await get(headers, `/api/v1/users/${acme.userId}`))
  })

  it('answers 401 for a missing Account-Token, or an account the user is not a member of', async () => {
    expect401(await get({ authorization: `Token ${acme.apiKey}` }))
    expect401(await get(keyHeaders(acme.apiKey, globex.accountToken)))
    expect401(await get(keyHeaders(acme.apiKey, 'no-such-account-token')))
  })

  it('needs only the key for /users/me', async () => {
    const response = await get({ authorization: `Token ${acme.apiKey}` }, '/api/v1/users/me')
    assert.equal(response.statusCode, 200)
    assert.equal(response.json().id, acme.userId)
    assert.equal(response.json().role, null)
  })

  it('answers 401 with error="invalid_token" for a tampered or expired bearer token', async () => {
    const client = await makeClient(t.app, acme, ['faults:read'])
    const token = await bearerToken(t.app, client)
    const [header, payload, signature] = token.split('.')
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(String(payload), 'base64url').toString()), acct: globex.accountId })).toString('base64url')}.${signature}`
    expect401(await get({ authorization: `Bearer ${tampered}` }), INVALID_TOKEN)
    expect401(await get({ authorization: `Bearer ${token}x` }), INVALID_TOKEN)
    expect401(await get({ authorization: 'Bearer not-a-jwt' }), INVALID_TOKEN)
    const secret = await loadSigningSecret(t.app.database.db, undefined)
    const expired = await new SignJWT({ acct: acme.accountId, scope: 'faults:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('fleet-faults')
      .setAudience('fleet-faults-api')
      .setSubject(client.clientId)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(secret)
    expect401(await get({ authorization: `Bearer ${expired}` }), INVALID_TOKEN)
  })

  it('answers 401 for a token of a revoked client', async () => {
    const client = await makeClient(t.app, acme, ['faults:read'])
    const token = await bearerToken(t.app, client)
    const revoked = await t.app.inject({ method: 'DELETE', url: `/api/v1/oauth_clients/${client.id}`, headers: acme.headers })
    assert.equal(revoked.statusCode, 204)
    expect401(await get({ authorization: `Bearer ${token}` }), INVALID_TOKEN)
  })

  it('answers 403 with insufficient_scope for a bearer token on key-only endpoints', async () => {
    const client = await makeClient(t.app, acme, ['faults:read'])
    const token = await bearerToken(t.app, client)
    const response = await get({ authorization: `Bearer ${token}` }, `/api/v1/users/${acme.userId}`)
    expectProblem(response, 403, '/problems/forbidden')
    assert.equal(response.headers['www-authenticate'], 'Bearer realm="fleet-faults", error="insufficient_scope"')
  })

  describe('API versions', () => {
    it("echoes the key's pinned version, or the one asked for", async () => {
      const pinned = await get(acme.headers, `/api/v1/users/${acme.userId}`)
      assert.equal(pinned.headers['x-api-version'], '2024-06-30')
      const asked = await get({ ...acme.headers, 'x-api-version': '2024-01-01' }, `/api/v1/users/${acme.userId}`)
      assert.equal(asked.statusCode, 200)
      assert.equal(asked.headers['x-api-version'], '2024-01-01')
    })

    it('answers 400 for an unknown version', async () => {
      const response = await get({ ...acme.headers, 'x-api-version': '1999-01-01' }, `/api/v1/users/${acme.userId}`)
      const body = expectProblem(response, 400, '/problems/invalid-parameter')
      assert.equal(body.parameter, 'X-Api-Version')
    })

    it('pins a new key to the version it was created with', async () => {
      const made = await t.app.inject({
        method: 'POST',
        url: '/api/v1/api_keys',
        headers: { ...acme.headers, 'x-api-version': '2024-03-15' },
        payload: {},
      })
      assert.equal(made.json().api_version, '2024-03-15')
      const used = await get(keyHeaders(made.json().api_key, acme.accountToken), `/api/v1/users/${acme.userId}`)
      assert.equal(used.headers['x-api-version'], '2024-03-15')
    })
  })
})

describe(`failed-authentication limit (${engine})`, () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '3' } })
  })
  after(() => t.close())

  it('answers 429 with Retry-After once an address has failed too often, even with good credentials', async () => {
    const acme = await makeAccount(t.app)
    const attempt = (headers: Record<string, string>, remoteAddress: string) =>
      t.app.inject({ url: `/api/v1/users/${acme.userId}`, headers, remoteAddress })
    for (let i = 0; i < 3; i++) {
      expectProblem(await attempt(keyHeaders(`ffk_guess${i}`, acme.accountToken), '10.9.9.9'), 401, '/problems/authentication-required')
    }
    const blocked = await attempt(acme.headers, '10.9.9.9')
    expectProblem(blocked, 429, '/problems/too-many-authentication-failures')
    assert.match(String(blocked.headers['retry-after']), /^\d+$/)
    assert.ok(Number(blocked.headers['retry-after']) <= 60)
    assert.equal((await attempt(acme.headers, '10.9.9.10')).statusCode, 200, 'other addresses are not affected')
  })

  it('answers an unknown key and a key used in a foreign account identically', async () => {
    const acme = await makeAccount(t.app)
    const other = await makeAccount(t.app)
    const cases = {
      unknown: keyHeaders('ffk_unknownunknownunknownunknown00', acme.accountToken),
      wrongAccount: keyHeaders(acme.apiKey, other.accountToken),
    }
    const bodies = new Set<string>()
    for (const [name, headers] of Object.entries(cases)) {
      const response = await t.app.inject({ url: '/api/v1/users/1', headers, remoteAddress: `10.8.0.${name.length}` })
      const body = expectProblem(response, 401, '/problems/authentication-required')
      bodies.add(JSON.stringify({ ...body, instance: undefined }))
    }
    assert.equal(bodies.size, 1, 'indistinguishable bodies')
  })
})

describe(`Account-Token on key-only routes (${engine})`, () => {
  it('answers 401 for /users/me with an Account-Token the user is not a member of', async () => {
    const t = await buildTestApp()
    try {
      const acme = await makeAccount(t.app)
      const other = await makeAccount(t.app)
      const response = await t.app.inject({ url: '/api/v1/users/me', headers: keyHeaders(acme.apiKey, other.accountToken) })
      expectProblem(response, 401, '/problems/authentication-required')
      const own = await t.app.inject({ url: '/api/v1/users/me', headers: acme.headers })
      assert.equal(own.json().role, 'admin')
    } finally {
      await t.close()
    }
  })
})
