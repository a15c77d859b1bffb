// API keys (/api_keys) and OAuth clients (/oauth_clients): secrets shown once, stored as hashes, revoked at once.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { engine, expectProblem } from '../helpers/app.js'
import { bearerToken, keyHeaders, makeAccount, makeClient, useTeam } from '../helpers/factories.js'
import { API_KEY_FIELDS } from '../helpers/requests.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex')

describe(`API keys (${engine})`, () => {
  const team = useTeam()

  const create = (payload: object, headers: Record<string, string>) =>
    team.app.inject({ method: 'POST', url: '/api/v1/api_keys', headers, payload })
  const revoke = (id: number, headers: Record<string, string>) =>
    team.app.inject({ method: 'DELETE', url: `/api/v1/api_keys/${id}`, headers })
  const me = (headers: Record<string, string>) => team.app.inject({ url: '/api/v1/users/me', headers })

  it('creates a key for the caller: 201, Location, the secret shown once, and a key that works', async () => {
    const response = await create({ name: 'ci' }, team.viewer.headers)
    assert.equal(response.statusCode, 201, response.body)
    const body = response.json()
    assert.deepEqual(Object.keys(body).sort(), [...API_KEY_FIELDS, 'api_key'].sort())
    assert.equal(response.headers.location, `/api/v1/api_keys/${body.id}`)
    assert.equal(body.name, 'ci')
    assert.equal(body.user_id, team.viewer.userId)
    assert.equal(body.account_id, null, "the user's own key: not bound to an account")
    assert.equal(body.last_used_at, null)
    assert.match(body.created_at, ISO)
    assert.match(body.api_key, /^ffk_[\w-]{32}$/)
    assert.equal(body.prefix, body.api_key.slice(0, 12))
    const used = await me(keyHeaders(body.api_key, team.acme.accountToken))
    assert.equal(used.statusCode, 200)
    assert.equal(used.json().id, team.viewer.userId)
    assert.equal(used.json().role, 'viewer')
  })

  it('replays a keyed create to its caller only: another member sending the same key and body gets 422, not the secret', async () => {
    const withKey = (headers: Record<string, string>) => ({ ...headers, 'idempotency-key': 'shared-key-1' })
    const first = await create({ name: 'deploy' }, withKey(team.editor.headers))
    assert.equal(first.statusCode, 201, first.body)
    const replay = await create({ name: 'deploy' }, withKey(team.editor.headers))
    assert.equal(replay.statusCode, 200)
    assert.equal(replay.headers['idempotent-replayed'], 'true')
    assert.equal(replay.json().api_key, first.json().api_key)
    const other = await create({ name: 'deploy' }, withKey(team.viewer.headers))
    const problem = expectProblem(other, 422, '/problems/idempotency-key-reused')
    assert.ok(!JSON.stringify(problem).includes(first.json().api_key))
  })

  it('creates a key without a name, and never the same secret twice', async () => {
    const first = (await create({}, team.editor.headers)).json()
    const second = (await create({}, team.editor.headers)).json()
    assert.equal(first.name, null)
    assert.notEqual(first.api_key, second.api_key)
    assert.notEqual(first.id, second.id)
  })

  it('records when a key was last used', async () => {
    const made = (await create({ name: 'touched' }, team.editor.headers)).json()
    assert.equal((await me(keyHeaders(made.api_key, team.acme.accountToken))).statusCode, 200)
    const row = await team.app.database.db.selectFrom('api_keys').select('last_used_at').where('id', '=', made.id).executeTakeFirstOrThrow()
    assert.notEqual(row.last_used_at, null)
  })

  it('stores only a SHA-256 hash of each secret: no column of api_keys holds the plaintext', async () => {
    const made = (await create({ name: 'hashed' }, team.acme.headers)).json()
    const rows = await team.app.database.db.selectFrom('api_keys').selectAll().execute()
    const row = rows.find((r) => r.id === made.id)
    assert.ok(row)
    assert.equal(row.key_hash, sha256(made.api_key))
    assert.equal(row.prefix, made.prefix)
    const everything = JSON.stringify(rows)
    assert.ok(!everything.includes(made.api_key), 'the secret is nowhere in the table')
    assert.ok(!everything.includes(team.acme.apiKey), "the account's first key is not stored either")
    assert.ok(!everything.includes(made.api_key.slice(12)), 'not even the part after the prefix')
  })

  it('lets an admin create a key for a member (user_id), bound to the account; the key acts as that member', async () => {
    const response = await create({ name: 'for the editor', user_id: team.editor.userId }, team.acme.headers)
    assert.equal(response.statusCode, 201, response.body)
    assert.equal(response.json().user_id, team.editor.userId)
    assert.equal(response.json().account_id, team.acme.accountId)
    const used = await me(keyHeaders(response.json().api_key, team.acme.accountToken))
    assert.equal(used.json().id, team.editor.userId)
    assert.equal(used.json().role, 'editor')
  })

  it('accepts user_id naming the caller from any member: their own key, not bound', async () => {
    for (const caller of [team.viewer, team.acme]) {
      const response = await create({ user_id: caller.userId }, caller.headers)
      assert.equal(response.statusCode, 201, response.body)
      assert.equal(response.json().user_id, caller.userId)
      assert.equal(response.json().account_id, null)
    }
  })

  it('binds a key made with a bound key to the same account, even for the caller themself', async () => {
    const made = (await create({ user_id: team.viewer.userId }, team.acme.headers)).json()
    const again = await create({ name: 'with a bound key' }, keyHeaders(made.api_key, team.acme.accountToken))
    assert.equal(again.statusCode, 201, again.body)
    assert.equal(again.json().user_id, team.viewer.userId)
    assert.equal(again.json().account_id, team.acme.accountId)
  })

  it('answers 403 when a non-admin names another user', async () => {
    for (const caller of [team.editor, team.viewer]) {
      const response = await create({ user_id: team.acme.userId }, caller.headers)
      const body = expectProblem(response, 403, '/problems/forbidden')
      assert.equal(body.detail, 'Only an admin may create keys for other members.')
    }
  })

  it('answers 404 when an admin names a user who is not a member of the account', async () => {
    const globex = await makeAccount(team.app, 'Globex')
    expectProblem(await create({ user_id: globex.userId }, team.acme.headers), 404)
    expectProblem(await create({ user_id: 999999 }, team.acme.headers), 404)
  })

  it('answers 422 for invalid fields', async () => {
    const response = await create({ name: 'x'.repeat(256), user_id: 0 }, team.acme.headers)
    const body = expectProblem(response, 422, '/problems/validation-error')
    assert.deepEqual(body.errors, {
      name: ['is too long (maximum is 255 characters)'],
      user_id: ['must be greater than or equal to 1'],
    })
  })

  it('lets a member revoke their own key: 204, and it fails at once', async () => {
    const made = (await create({ name: 'short-lived' }, team.viewer.headers)).json()
    const headers = keyHeaders(made.api_key, team.acme.accountToken)
    assert.equal((await me(headers)).statusCode, 200)
    const response = await revoke(made.id, team.viewer.headers)
    assert.equal(response.statusCode, 204, response.body)
    assert.equal(response.body, '')
    const refused = await me(headers)
    expectProblem(refused, 401, '/problems/authentication-required')
    expectProblem(await revoke(made.id, team.viewer.headers), 404, 'about:blank')
  })

  it('lets a key revoke itself', async () => {
    const made = (await create({}, team.editor.headers)).json()
    const headers = keyHeaders(made.api_key, team.acme.accountToken)
    assert.equal((await revoke(made.id, headers)).statusCode, 204)
    expectProblem(await me(headers), 401, '/problems/authentication-required')
  })

  it("answers 404 when a non-admin revokes another member's key, which keeps working", async () => {
    const theirs = (await create({ name: "editor's" }, team.editor.headers)).json()
    expectProblem(await revoke(theirs.id, team.viewer.headers), 404)
    assert.equal((await me(keyHeaders(theirs.api_key, team.acme.accountToken))).statusCode, 200)
  })

  it('lets an admin revoke a key bound to the account, and the member revoke it too', async () => {
    for (const revoker of [team.acme, team.editor]) {
      const made = (await create({ name: 'to revoke', user_id: team.editor.userId }, team.acme.headers)).json()
      assert.equal((await revoke(made.id, revoker.headers)).statusCode, 204)
      expectProblem(await me(keyHeaders(made.api_key, team.acme.accountToken)), 401, '/problems/authentication-required')
    }
  })

  it("answers 404 when an admin revokes a member's own key, which keeps working", async () => {
    const theirs = (await create({ name: "the editor's own" }, team.editor.headers)).json()
    expectProblem(await revoke(theirs.id, team.acme.headers), 404)
    assert.equal((await me(keyHeaders(theirs.api_key, team.acme.accountToken))).statusCode, 200)
  })

  it('answers 404 for a key id that does not exist', async () => {
    expectProblem(await revoke(999999, team.acme.headers), 404)
    expectProblem(await team.app.inject({ method: 'DELETE', url: '/api/v1/api_keys/abc', headers: team.acme.headers }), 404)
  })
})

describe(`OAuth clients (${engine})`, () => {
  const team = useTeam()

  const create = (payload: object, headers = team.acme.headers) =>
    team.app.inject({ method: 'POST', url: '/api/v1/oauth_clients', headers, payload })
  const revoke = (id: number, headers = team.acme.headers) =>
    team.app.inject({ method: 'DELETE', url: `/api/v1/oauth_clients/${id}`, headers })
  const token = (clientId: string, clientSecret: string) =>
    team.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
    })

  it('lets an admin create a client: 201, Location, the secret shown once, each scope once', async () => {
    const response = await create({ name: 'telematics', scopes: ['faults:write', 'faults:read', 'faults:write'] })
    assert.equal(response.statusCode, 201, response.body)
    const body = response.json()
    assert.deepEqual(Object.keys(body).sort(), ['client_id', 'client_secret', 'created_at', 'id', 'name', 'scopes'])
    assert.equal(response.headers.location, `/api/v1/oauth_clients/${body.id}`)
    assert.equal(body.name, 'telematics')
    assert.deepEqual(body.scopes, ['faults:write', 'faults:read'])
    assert.match(body.client_id, /^ffc_[0-9a-f]{24}$/)
    assert.match(body.client_secret, /^ffs_[\w-]{43}$/)
    assert.match(body.created_at, ISO)
    const granted = await token(body.client_id, body.client_secret)
    assert.equal(granted.statusCode, 200, granted.body)
    assert.equal(granted.json().scope, 'faults:write faults:read')
  })

  it('stores only a SHA-256 hash of the client secret', async () => {
    const body = (await create({ name: 'hashed', scopes: ['vehicles:read'] })).json()
    const rows = await team.app.database.db.selectFrom('oauth_clients').selectAll().execute()
    const row = rows.find((r) => r.id === body.id)
    assert.equal(row?.secret_hash, sha256(body.client_secret))
    assert.ok(!JSON.stringify(rows).includes(body.client_secret), 'the secret is nowhere in the table')
  })

  it('answers 403 to editors and viewers', async () => {
    for (const caller of [team.editor, team.viewer]) {
      expectProblem(await create({ name: 'nope', scopes: ['faults:read'] }, caller.headers), 403, '/problems/forbidden')
    }
    const client = await makeClient(team.app, team.acme, ['faults:read'])
    for (const caller of [team.editor, team.viewer]) expectProblem(await revoke(client.id, caller.headers), 403, '/problems/forbidden')
    assert.equal((await token(client.clientId, client.clientSecret)).statusCode, 200, 'still live')
  })

  it('answers 422 for a missing name, no scopes, or a scope that does not exist', async () => {
    const invalid = 'is not a valid value. Please specify one of the predefined values for this field.'
    const cases: [object, Record<string, string[]>][] = [
      [{}, { name: ["can't be blank"], scopes: ["can't be blank"] }],
      [
        { name: '', scopes: [] },
        { name: ["can't be blank"], scopes: ['is invalid'] },
      ],
      [{ name: 'x', scopes: ['faults:read', 'admin'] }, { 'scopes.1': [invalid] }],
    ]
    for (const [payload, errors] of cases) {
      const body = expectProblem(await create(payload), 422, '/problems/validation-error')
      assert.deepEqual(body.errors, errors, JSON.stringify(payload))
    }
  })

  it('revokes a client: 204; its tokens fail with 401 and it gets no new one', async () => {
    const client = await makeClient(team.app, team.acme, ['faults:read'])
    const issued = await bearerToken(team.app, client)
    const response = await revoke(client.id)
    assert.equal(response.statusCode, 204, response.body)
    assert.equal(response.body, '')
    const used = await team.app.inject({ url: '/api/v1/users/me', headers: { authorization: `Bearer ${issued}` } })
    expectProblem(used, 401, '/problems/authentication-required')
    assert.equal(used.headers['www-authenticate'], 'Token realm="fleet-faults", Bearer realm="fleet-faults", error="invalid_token"')
    const again = await token(client.clientId, client.clientSecret)
    assert.equal(again.statusCode, 401)
    assert.equal(again.json().error, 'invalid_client')
    expectProblem(await revoke(client.id), 404)
  })

  it('answers 404 for a client id that does not exist', async () => {
    expectProblem(await revoke(999999), 404)
  })
})
