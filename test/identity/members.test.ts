// Members of an account (/users, /users/:id): admins add, re-role and remove; the account keeps an admin.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engine, expectProblem } from '../helpers/app.js'
import { keyHeaders, makeAccount, makeMember, useTeam } from '../helpers/factories.js'
import { expectInvalid, NOT_ALLOWED } from '../helpers/requests.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

let counter = 0
const newEmail = (tag: string) => `${tag}-${Date.now()}-${++counter}@example.com`

describe(`members (${engine})`, () => {
  const team = useTeam()

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = team.acme.headers) =>
    team.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
  const add = (payload: object, headers = team.acme.headers) => call('POST', '/api/v1/users', payload, headers)

  describe('POST /users', () => {
    it('adds a new user as a member: 201, Location, and the user in the role given', async () => {
      const email = newEmail('new')
      const response = await add({ email, first_name: 'Grace', last_name: 'Hopper', role: 'editor' })
      assert.equal(response.statusCode, 201, response.body)
      const body = response.json()
      assert.deepEqual(Object.keys(body).sort(), ['created_at', 'email', 'first_name', 'id', 'last_name', 'role'])
      assert.equal(response.headers.location, `/api/v1/users/${body.id}`)
      assert.equal(body.email, email)
      assert.equal(body.first_name, 'Grace')
      assert.equal(body.last_name, 'Hopper')
      assert.equal(body.role, 'editor')
      assert.match(body.created_at, ISO)
      const fetched = await call('GET', String(response.headers.location))
      assert.equal(fetched.statusCode, 200)
      assert.deepEqual(fetched.json(), body)
    })

    it('adds a user who already exists (found by email, case-insensitively) without making a second user', async () => {
      const globex = await makeAccount(team.app, 'Globex')
      const them = (await call('GET', '/api/v1/users/me', undefined, { authorization: `Token ${globex.apiKey}` })).json()
      const response = await add({ email: them.email.toUpperCase(), first_name: 'Known here as', role: 'viewer' })
      assert.equal(response.statusCode, 201, response.body)
      const body = response.json()
      assert.equal(body.id, globex.userId, 'the same user')
      assert.equal(body.email, them.email)
      assert.equal(body.first_name, 'Known here as', "this account's own name for them, not the one another account gave")
      assert.equal(body.last_name, null)
      assert.equal(body.role, 'viewer')
      // Their key now reaches both accounts, with the role of each.
      const inAcme = await call('GET', '/api/v1/users/me', undefined, keyHeaders(globex.apiKey, team.acme.accountToken))
      assert.equal(inAcme.json().role, 'viewer')
      const inGlobex = await call('GET', '/api/v1/users/me', undefined, globex.headers)
      assert.equal(inGlobex.json().role, 'admin')
    })

    it('answers 422 "has already been taken" on email when the user is already a member', async () => {
      const email = newEmail('twice')
      assert.equal((await add({ email, role: 'viewer' })).statusCode, 201)
      expectInvalid(await add({ email, role: 'admin' }), { email: ['has already been taken'] })
      expectInvalid(await add({ email: email.toUpperCase(), role: 'admin' }), { email: ['has already been taken'] })
    })

    it('answers 422 naming every invalid field at once', async () => {
      expectInvalid(await add({}), { email: ["can't be blank"], role: ["can't be blank"] })
      expectInvalid(await add({ email: 'not-an-email', role: 'owner' }), { email: ['is invalid'], role: NOT_ALLOWED })
      expectInvalid(await add({ email: newEmail('long'), first_name: 'x'.repeat(256), role: 'viewer' }), {
        first_name: ['is too long (maximum is 255 characters)'],
      })
      expectInvalid(await add({ email: 42, role: 'viewer' }), { email: ['must be a string'] })
      expectInvalid(await add({ email: null, role: 'viewer' }), { email: ["can't be blank"] })
    })

    it('answers 400 for a body that is not JSON, and 415 for another media type', async () => {
      const malformed = await team.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { ...team.acme.headers, 'content-type': 'application/json' },
        payload: '{"email":',
      })
      expectProblem(malformed, 400, '/problems/malformed-request')
      const form = await team.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { ...team.acme.headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'email=a%40b.c&role=viewer',
      })
      expectProblem(form, 415)
      assert.equal(form.headers['accept-post'], 'application/json')
    })

    it('is for admins only: editor and viewer get 403', async () => {
      for (const caller of [team.editor, team.viewer]) {
        expectProblem(await add({ email: newEmail('denied'), role: 'viewer' }, caller.headers), 403, '/problems/forbidden')
      }
    })
  })

  describe('GET /users/:id', () => {
    it('answers a member with the role in this account', async () => {
      const response = await call('GET', `/api/v1/users/${team.editor.userId}`, undefined, team.viewer.headers)
      assert.equal(response.statusCode, 200)
      assert.equal(response.json().id, team.editor.userId)
      assert.equal(response.json().role, 'editor')
      assert.equal(response.headers['cache-control'], 'no-store')
    })

    it('answers 404 for a user who is not a member, and for an id that is not one', async () => {
      const globex = await makeAccount(team.app, 'Globex')
      expectProblem(await call('GET', `/api/v1/users/${globex.userId}`), 404)
      expectProblem(await call('GET', '/api/v1/users/999999'), 404)
      expectProblem(await call('GET', '/api/v1/users/abc'), 404)
      expectProblem(await call('GET', '/api/v1/users/0'), 404)
    })
  })

  describe('PATCH /users/:id', () => {
    it("changes a member's role: 204 without a body, seen at once by GET and by the member's own key", async () => {
      const member = await makeMember(team.app, team.acme, 'viewer')
      const response = await call('PATCH', `/api/v1/users/${member.userId}`, { role: 'editor' })
      assert.equal(response.statusCode, 204, response.body)
      assert.equal(response.body, '')
      assert.equal((await call('GET', `/api/v1/users/${member.userId}`)).json().role, 'editor')
      const write = await call('POST', '/api/v1/api_keys', { user_id: team.acme.userId }, member.headers)
      expectProblem(write, 403, '/problems/forbidden')
      assert.equal((await call('PATCH', `/api/v1/users/${member.userId}`, { role: 'admin' })).statusCode, 204)
      assert.equal((await call('POST', '/api/v1/api_keys', { user_id: team.acme.userId }, member.headers)).statusCode, 201, 'now an admin')
    })

    it('accepts application/merge-patch+json', async () => {
      const member = await makeMember(team.app, team.acme, 'viewer')
      const response = await team.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${member.userId}`,
        headers: { ...team.acme.headers, 'content-type': 'application/merge-patch+json' },
        payload: JSON.stringify({ role: 'editor' }),
      })
      assert.equal(response.statusCode, 204, response.body)
    })

    it('answers 422 for a role that does not exist or is missing, 404 for a non-member', async () => {
      const member = await makeMember(team.app, team.acme, 'viewer')
      expectInvalid(await call('PATCH', `/api/v1/users/${member.userId}`, { role: 'owner' }), { role: NOT_ALLOWED })
      expectInvalid(await call('PATCH', `/api/v1/users/${member.userId}`, {}), { role: ["can't be blank"] })
      expectProblem(await call('PATCH', '/api/v1/users/999999', { role: 'viewer' }), 404)
    })

    it('is for admins only', async () => {
      for (const caller of [team.editor, team.viewer]) {
        expectProblem(
          await call('PATCH', `/api/v1/users/${team.viewer.userId}`, { role: 'admin' }, caller.headers),
          403,
          '/problems/forbidden',
        )
      }
      assert.equal((await call('GET', `/api/v1/users/${team.viewer.userId}`)).json().role, 'viewer')
    })
  })

  describe('DELETE /users/:id', () => {
    it('removes the membership: 204, then 404, and the member can no longer act in the account', async () => {
      const member = await makeMember(team.app, team.acme, 'editor')
      assert.equal((await call('GET', `/api/v1/users/${team.acme.userId}`, undefined, member.headers)).statusCode, 200)
      const response = await call('DELETE', `/api/v1/users/${member.userId}`)
      assert.equal(response.statusCode, 204, response.body)
      assert.equal(response.body, '')
      expectProblem(await call('GET', `/api/v1/users/${member.userId}`), 404)
      expectProblem(await call('DELETE', `/api/v1/users/${member.userId}`), 404)
      const after = await call('GET', `/api/v1/users/${team.acme.userId}`, undefined, member.headers)
      expectProblem(after, 401, '/problems/authentication-required')
      // The user and their key still exist: only the membership went.
      const me = await call('GET', '/api/v1/users/me', undefined, { authorization: `Token ${member.apiKey}` })
      assert.equal(me.statusCode, 200)
      assert.equal(me.json().id, member.userId)
    })

    it('is for admins only', async () => {
      for (const caller of [team.editor, team.viewer]) {
        expectProblem(await call('DELETE', `/api/v1/users/${team.viewer.userId}`, undefined, caller.headers), 403, '/problems/forbidden')
      }
      assert.equal((await call('GET', `/api/v1/users/${team.viewer.userId}`)).statusCode, 200)
    })
  })

  describe('the last admin', () => {
    it('cannot be demoted or removed (409), until another member is admin', async () => {
      const solo = await makeAccount(team.app, 'Solo')
      const other = await makeMember(team.app, solo, 'editor')
      for (const [method, payload] of [
        ['PATCH', { role: 'editor' }],
        ['PATCH', { role: 'viewer' }],
        ['DELETE', undefined],
      ] as const) {
        const response = await call(method, `/api/v1/users/${solo.userId}`, payload, solo.headers)
        const body = expectProblem(response, 409, '/problems/conflict')
        assert.equal(body.title, 'Conflict with the current state')
        assert.equal(body.detail, 'The account must keep at least one admin: make another member admin first.')
      }
      assert.equal((await call('GET', `/api/v1/users/${solo.userId}`, undefined, solo.headers)).json().role, 'admin', 'unchanged')
      assert.equal(
        (await call('PATCH', `/api/v1/users/${solo.userId}`, { role: 'admin' }, solo.headers)).statusCode,
        204,
        'admin → admin is fine',
      )

      assert.equal((await call('PATCH', `/api/v1/users/${other.userId}`, { role: 'admin' }, solo.headers)).statusCode, 204)
      assert.equal((await call('PATCH', `/api/v1/users/${solo.userId}`, { role: 'viewer' }, solo.headers)).statusCode, 204)
      // The new admin is now the last one.
      expectProblem(await call('DELETE', `/api/v1/users/${other.userId}`, undefined, other.headers), 409, '/problems/conflict')
      assert.equal((await call('DELETE', `/api/v1/users/${solo.userId}`, undefined, other.headers)).statusCode, 204)
    })

    it('survives two admins demoting each other at once: one wins, one gets 409', async () => {
      const pair = await makeAccount(team.app, 'Pair')
      const second = await makeMember(team.app, pair, 'admin')
      const [a, b] = await Promise.all([
        call('PATCH', `/api/v1/users/${second.userId}`, { role: 'viewer' }, pair.headers),
        call('PATCH', `/api/v1/users/${pair.userId}`, { role: 'viewer' }, second.headers),
      ])
      assert.deepEqual([a.statusCode, b.statusCode].sort(), [204, 409])
      const roles = await Promise.all(
        [pair.userId, second.userId].map(async (id) => (await call('GET', `/api/v1/users/${id}`, undefined, second.headers)).json().role),
      )
      assert.equal(roles.filter((role) => role === 'admin').length, 1, 'exactly one admin is left')
    })
  })
})
