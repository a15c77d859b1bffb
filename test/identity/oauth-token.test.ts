// POST /oauth/token (CONTRACT §2, RFC 6749 §4.4): the grant in every accepted form, and every error it answers.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { keyHeaders, makeAccount, makeClient, type TestAccount } from '../helpers/factories.js'

type Client = Awaited<ReturnType<typeof makeClient>>
type Injected = Awaited<ReturnType<TestApp['app']['inject']>>

const BASIC_CHALLENGE = 'Basic realm="fleet-faults", charset="UTF-8"'
const FORM = 'application/x-www-form-urlencoded'

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

/** A test-only fleet route per scope permission: what a bearer token is for. */
function faultRoutes(app: TestApp['app']) {
  app.get('/api/v1/test/faults', { config: { permission: 'faults:read' } }, async () => ({ records: [] }))
  app.post('/api/v1/test/faults', { config: { permission: 'faults:write' } }, async (_request, reply) => reply.code(201).send({ id: 1 }))
}

/** What every token response carries, success or RFC 6749 error. */
function expectNoStore(response: Injected) {
  assert.equal(response.headers['cache-control'], 'no-store')
  assert.equal(response.headers.pragma, 'no-cache')
}

function expectOAuthError(response: Injected, status: number, error: string, description: string) {
  assert.equal(response.statusCode, status, response.body)
  assert.match(String(response.headers['content-type']), /^application\/json/)
  assert.deepEqual(response.json(), { error, error_description: description })
  expectNoStore(response)
}

describe(`POST /oauth/token (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let client: Client
  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000' }, extend: faultRoutes })
    acme = await makeAccount(t.app, 'Acme')
    client = await makeClient(t.app, acme, ['faults:read', 'faults:write'])
  })
  after(() => t.close())

  const token = (payload: string | Record<string, unknown>, headers: Record<string, string> = {}, remoteAddress?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': typeof payload === 'string' ? FORM : 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      ...(remoteAddress ? { remoteAddress } : {}),
    })

  function expectToken(response: Injected, scope: string): string {
    assert.equal(response.statusCode, 200, response.body)
    assert.match(String(response.headers['content-type']), /^application\/json/)
    expectNoStore(response)
    const body = response.json()
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
    assert.equal(body.token_type, 'Bearer')
    assert.equal(body.expires_in, t.config.TOKEN_TTL_SECONDS)
    assert.equal(body.scope, scope)
    assert.match(body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a compact JWS')
    return body.access_token
  }

  const readFaults = (accessToken: string) =>
    t.app.inject({ method: 'GET', url: '/api/v1/test/faults', headers: { authorization: `Bearer ${accessToken}` } })

  describe('grants a token', () => {
    it('to HTTP Basic client authentication with a form-encoded body', async () => {
      const response = await token(form({ grant_type: 'client_credentials' }), {
        authorization: basic(client.clientId, client.clientSecret),
      })
      const accessToken = expectToken(response, 'faults:read faults:write')
      const used = await readFaults(accessToken)
      assert.equal(used.statusCode, 200, used.body)
      assert.deepEqual(used.json(), { records: [] })
    })

    it('to client credentials in form fields', async () => {
      const response = await token(
        form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
      )
      assert.equal((await readFaults(expectToken(response, 'faults:read faults:write'))).statusCode, 200)
    })

    it('to client credentials in a JSON body', async () => {
      const response = await token({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })
      assert.equal((await readFaults(expectToken(response, 'faults:read faults:write'))).statusCode, 200)
    })

    it('to HTTP Basic with a JSON body', async () => {
      const response = await token({ grant_type: 'client_credentials' }, { authorization: basic(client.clientId, client.clientSecret) })
      expectToken(response, 'faults:read faults:write')
    })

    it('narrowed to a requested subset of the scopes, which then bounds what the token may do', async () => {
      const response = await token(form({ grant_type: 'client_credentials', scope: 'faults:read' }), {
        authorization: basic(client.clientId, client.clientSecret),
      })
      const accessToken = expectToken(response, 'faults:read')
      assert.equal((await readFaults(accessToken)).statusCode, 200)
      const write = await t.app.inject({
        method: 'POST',
        url: '/api/v1/test/faults',
        headers: { authorization: `Bearer ${accessToken}` },
        payload: {},
      })
      expectProblem(write, 403, '/problems/forbidden')
      assert.equal(write.headers['www-authenticate'], 'Bearer realm="fleet-faults", error="insufficient_scope", scope="faults:write"')
    })

    it('with the scopes of the client for an empty scope parameter, and each scope once', async () => {
      expectToken(
        await token(form({ grant_type: 'client_credentials', scope: '' }), { authorization: basic(client.clientId, client.clientSecret) }),
        'faults:read faults:write',
      )
      expectToken(
        await token(form({ grant_type: 'client_credentials', scope: 'faults:write  faults:write' }), {
          authorization: basic(client.clientId, client.clientSecret),
        }),
        'faults:write',
      )
    })

    it('that needs no Account-Token and acts in the account of the client only', async () => {
      const other = await makeAccount(t.app, 'Globex')
      const accessToken = expectToken(
        await token({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
        'faults:read faults:write',
      )
      const withForeignToken = await t.app.inject({
        method: 'GET',
        url: '/api/v1/test/faults',
        headers: { authorization: `Bearer ${accessToken}`, 'account-token': other.accountToken },
      })
      assert.equal(withForeignToken.statusCode, 200, 'an Account-Token beside a bearer token changes nothing')
    })
  })

  describe('answers RFC 6749 errors', () => {
    it('400 invalid_request without grant_type', async () => {
      expectOAuthError(
        await token(form({}), { authorization: basic(client.clientId, client.clientSecret) }),
        400,
        'invalid_request',
        'grant_type is required.',
      )
      expectOAuthError(
        await token({ client_id: client.clientId, client_secret: client.clientSecret }),
        400,
        'invalid_request',
        'grant_type is required.',
      )
    })

    it('400 unsupported_grant_type for another grant with a valid client', async () => {
      for (const grant of ['authorization_code', 'password', 'refresh_token']) {
        expectOAuthError(
          await token(form({ grant_type: grant }), { authorization: basic(client.clientId, client.clientSecret) }),
          400,
          'unsupported_grant_type',
          `Grant type ${grant} is not supported; use client_credentials.`,
        )
      }
    })

    it('401 invalid_client with a Basic challenge for a wrong secret sent by HTTP Basic', async () => {
      const response = await token(form({ grant_type: 'client_credentials' }), { authorization: basic(client.clientId, 'ffs_wrong') })
      expectOAuthError(response, 401, 'invalid_client', 'Client authentication failed.')
      assert.equal(response.headers['www-authenticate'], BASIC_CHALLENGE)
    })

    it('401 invalid_client without a Basic challenge for a wrong secret sent in form fields', async () => {
      const response = await token(form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'ffs_wrong' }))
      expectOAuthError(response, 401, 'invalid_client', 'Client authentication failed.')
      assert.equal(response.headers['www-authenticate'], undefined)
    })

    it('401 invalid_client for an unknown client id, by Basic and by form fields', async () => {
      const byBasic = await token(form({ grant_type: 'client_credentials' }), { authorization: basic('ffc_unknown', client.clientSecret) })
      expectOAuthError(byBasic, 401, 'invalid_client', 'Client authentication failed.')
      assert.equal(byBasic.headers['www-authenticate'], BASIC_CHALLENGE)
      const byForm = await token(form({ grant_type: 'client_credentials', client_id: 'ffc_unknown', client_secret: client.clientSecret }))
      expectOAuthError(byForm, 401, 'invalid_client', 'Client authentication failed.')
      assert.equal(byForm.headers['www-authenticate'], undefined)
    })

    it('401 invalid_client when no client authentication is sent at all', async () => {
      const response = await token(form({ grant_type: 'client_credentials' }))
      expectOAuthError(response, 401, 'invalid_client', 'Client authentication is required.')
      assert.equal(response.headers['www-authenticate'], undefined)
      expectOAuthError(
        await token(form({ grant_type: 'client_credentials', client_id: client.clientId })),
        401,
        'invalid_client',
        'Client authentication is required.',
      )
    })

    it('401 invalid_client with a Basic challenge for HTTP Basic credentials without a colon', async () => {
      const response = await token(form({ grant_type: 'client_credentials' }), {
        authorization: `Basic ${Buffer.from(client.clientId).toString('base64')}`,
      })
      expectOAuthError(response, 401, 'invalid_client', 'Malformed HTTP Basic credentials.')
      assert.equal(response.headers['www-authenticate'], BASIC_CHALLENGE)
    })

    it('400 invalid_request for credentials sent both by HTTP Basic and in the body', async () => {
      const response = await token(
        form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
        { authorization: basic(client.clientId, client.clientSecret) },
      )
      expectOAuthError(response, 400, 'invalid_request', 'Send client credentials either by HTTP Basic or in the body, not both.')
    })

    it('400 invalid_scope for a scope the client was not granted, or one that does not exist', async () => {
      const readOnly = await makeClient(t.app, acme, ['faults:read'])
      for (const scope of ['faults:write', 'faults:read faults:write', 'admin']) {
        const wanted = scope.split(' ').find((s) => s !== 'faults:read')
        expectOAuthError(
          await token(form({ grant_type: 'client_credentials', scope }), {
            authorization: basic(readOnly.clientId, readOnly.clientSecret),
          }),
          400,
          'invalid_scope',
          `Scope ${wanted} is not granted to this client.`,
        )
      }
    })

    it('400 invalid_request (OAuth JSON, not a problem) for malformed JSON', async () => {
      const response = await token('{"grant_type": "client_credentials",', { 'content-type': 'application/json' })
      expectOAuthError(response, 400, 'invalid_request', 'The token request is malformed.')
    })

    it('400 invalid_request for a body that is not an object', async () => {
      const response = await token('["client_credentials"]', { 'content-type': 'application/json' })
      expectOAuthError(response, 400, 'invalid_request', 'The token request is malformed.')
    })

    it('415 problem naming both accepted media types for any other Content-Type', async () => {
      for (const contentType of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
        const response = await token('grant_type=client_credentials', { 'content-type': contentType })
        expectProblem(response, 415)
        assert.equal(response.headers['accept-post'], 'application/x-www-form-urlencoded, application/json')
        assert.equal(response.headers['cache-control'], 'no-store')
      }
    })
  })

  it('is declared in the OpenAPI document with its RFC 6749 error bodies', async () => {
    const document = (await t.app.inject({ url: '/openapi.json' })).json()
    const operation = document.paths['/oauth/token'].post
    for (const status of ['200', '400', '401', '415', '429']) assert.ok(operation.responses[status], `declares ${status}`)
    assert.ok(operation.requestBody.content[FORM] || operation.requestBody.content['application/json'])
  })
})

describe(`POST /oauth/token and the failed-authentication limit (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let client: Client
  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '3' } })
    acme = await makeAccount(t.app)
    client = await makeClient(t.app, acme, ['faults:read'])
  })
  after(() => t.close())

  const attempt = (secret: string, remoteAddress: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': FORM, authorization: basic(client.clientId, secret) },
      payload: form({ grant_type: 'client_credentials' }),
      remoteAddress,
    })

  it('counts each failed client authentication against the address, then answers 429 even to good credentials', async () => {
    for (let i = 0; i < 3; i++) {
      expectOAuthError(await attempt(`ffs_guess${i}`, '10.7.0.1'), 401, 'invalid_client', 'Client authentication failed.')
    }
    const blocked = await attempt(client.clientSecret, '10.7.0.1')
    expectProblem(blocked, 429, '/problems/too-many-authentication-failures')
    assert.match(String(blocked.headers['retry-after']), /^\d+$/)
    assert.ok(Number(blocked.headers['retry-after']) <= 60)
    expectNoStore(blocked)
    assert.equal((await attempt(client.clientSecret, '10.7.0.2')).statusCode, 200, 'other addresses are not affected')
  })

  it('shares the count with API-key authentication: guessing secrets here blocks keys from the same address', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await attempt(`ffs_guess${i}`, '10.7.0.3')).statusCode, 401)
    const viaKey = await t.app.inject({
      url: `/api/v1/users/${acme.userId}`,
      headers: keyHeaders(acme.apiKey, acme.accountToken),
      remoteAddress: '10.7.0.3',
    })
    expectProblem(viaKey, 429, '/problems/too-many-authentication-failures')
  })

  it('does not count requests whose client authenticated, whatever else was wrong', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': FORM, authorization: basic(client.clientId, client.clientSecret) },
        payload: form({ grant_type: 'client_credentials', scope: 'faults:write' }),
        remoteAddress: '10.7.0.4',
      })
      expectOAuthError(response, 400, 'invalid_scope', 'Scope faults:write is not granted to this client.')
    }
  })
})
