// Who may do what (CONTRACT §2): each role on a read and a write, and bearer tokens with and without the scope.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Role, Scope } from '../../src/http/access.js'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { bearerToken, type Caller, makeAccount, makeClient, makeMember, type TestAccount } from '../helpers/factories.js'

type Injected = Awaited<ReturnType<TestApp['app']['inject']>>

/**
 * No fleet resource exists yet, so these test-only routes stand for one: a read (viewer and up),
 * a write (editor and up) and an admin-only write, each guarded by the scope permission a fleet route will use.
 */
function fleetRoutes(app: TestApp['app']) {
  app.get('/api/v1/test/faults', { config: { permission: 'faults:read' } }, async () => ({ records: [] }))
  app.post('/api/v1/test/faults', { config: { permission: 'faults:write' } }, async (_request, reply) => reply.code(201).send({ id: 1 }))
  app.post('/api/v1/test/fault_rules', { config: { permission: 'fault_rules:write' } }, async (_request, reply) =>
    reply.code(201).send({ id: 1 }),
  )
}

function expectForbidden(response: Injected, detail: string) {
  const body = expectProblem(response, 403, '/problems/forbidden')
  assert.equal(body.title, 'Insufficient permissions')
  assert.equal(body.detail, detail)
  assert.equal(response.headers['cache-control'], 'no-store')
}

describe(`authorization (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  const callers = {} as Record<Role, Caller>
  before(async () => {
    t = await buildTestApp({ env: { AUTH_FAILURE_LIMIT: '1000' }, extend: fleetRoutes })
    acme = await makeAccount(t.app, 'Acme')
    callers.admin = acme
    callers.editor = await makeMember(t.app, acme, 'editor')
    callers.viewer = await makeMember(t.app, acme, 'viewer')
  })
  after(() => t.close())

  const request = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })

  describe('roles, with an API key', () => {
    /** Which role may use which route: the table of CONTRACT §2. */
    const table: { route: string; method: 'GET' | 'POST'; url: string; allowed: Record<Role, boolean>; needs: Role; status: number }[] = [
      {
        route: 'a fleet read',
        method: 'GET',
        url: '/api/v1/test/faults',
        allowed: { admin: true, editor: true, viewer: true },
        needs: 'viewer',
        status: 200,
      },
      {
        route: 'a fleet write',
        method: 'POST',
        url: '/api/v1/test/faults',
        allowed: { admin: true, editor: true, viewer: false },
        needs: 'editor',
        status: 201,
      },
      {
        route: 'a rule write',
        method: 'POST',
        url: '/api/v1/test/fault_rules',
        allowed: { admin: true, editor: false, viewer: false },
        needs: 'admin',
        status: 201,
      },
    ]
    for (const { route, method, url, allowed, needs, status } of table) {
      for (const role of ['admin', 'editor', 'viewer'] as const) {
        it(`${allowed[role] ? 'lets' : 'forbids'} ${role} ${allowed[role] ? 'use' : 'from using'} ${route} (${method} ${url})`, async () => {
          const response = await request(method, url, callers[role].headers, method === 'POST' ? {} : undefined)
          if (allowed[role]) {
            assert.equal(response.statusCode, status, response.body)
          } else {
            expectForbidden(response, `This action needs the ${needs} role; you are ${role}.`)
            assert.equal(response.headers['www-authenticate'], undefined, 'a key caller gets no bearer challenge')
          }
        })
      }
    }

    for (const role of ['admin', 'editor', 'viewer'] as const) {
      it(`lets ${role} read a member (GET /users/:id, member)`, async () => {
        const response = await request('GET', `/api/v1/users/${acme.userId}`, callers[role].headers)
        assert.equal(response.statusCode, 200, response.body)
        assert.equal(response.json().id, acme.userId)
        assert.equal(response.json().role, 'admin')
      })

      it(`${role === 'admin' ? 'lets admin add' : `forbids ${role} from adding`} a member (POST /users, admin)`, async () => {
        const email = `added-by-${role}-${Date.now()}@example.com`
        const response = await request('POST', '/api/v1/users', callers[role].headers, { email, role: 'viewer' })
        if (role === 'admin') {
          assert.equal(response.statusCode, 201, response.body)
          assert.equal(response.json().email, email)
        } else {
          expectForbidden(response, `This action needs the admin role; you are ${role}.`)
        }
      })
    }

    it('reports the caller as a user in the account of the call, with the role there', async () => {
      for (const role of ['admin', 'editor', 'viewer'] as const) {
        const me = await request('GET', '/api/v1/users/me', callers[role].headers)
        assert.equal(me.statusCode, 200, me.body)
        assert.equal(me.json().id, callers[role].userId)
        assert.equal(me.json().role, role)
      }
    })
  })

  describe('scopes, with a bearer token', () => {
    const bearer = async (scopes: Scope[], scope?: string) => {
      const client = await makeClient(t.app, acme, scopes)
      return { authorization: `Bearer ${await bearerToken(t.app, client, scope)}` }
    }

    it('allows a read and a write when the token has both scopes', async () => {
      const headers = await bearer(['faults:read', 'faults:write'])
      assert.equal((await request('GET', '/api/v1/test/faults', headers)).statusCode, 200)
      assert.equal((await request('POST', '/api/v1/test/faults', headers, {})).statusCode, 201)
    })

    it('answers 403 insufficient_scope naming the missing scope for a write with a read-only token', async () => {
      const headers = await bearer(['faults:read'])
      assert.equal((await request('GET', '/api/v1/test/faults', headers)).statusCode, 200)
      const response = await request('POST', '/api/v1/test/faults', headers, {})
      expectForbidden(response, 'This token lacks the faults:write scope.')
      assert.equal(response.headers['www-authenticate'], 'Bearer realm="fleet-faults", error="insufficient_scope", scope="faults:write"')
    })

    it('does not let a write scope imply the read scope', async () => {
      const headers = await bearer(['faults:write'])
      assert.equal((await request('POST', '/api/v1/test/faults', headers, {})).statusCode, 201)
      const response = await request('GET', '/api/v1/test/faults', headers)
      expectForbidden(response, 'This token lacks the faults:read scope.')
      assert.equal(response.headers['www-authenticate'], 'Bearer realm="fleet-faults", error="insufficient_scope", scope="faults:read"')
    })

    it('judges by the scopes of the token, not of the client, when a subset was requested', async () => {
      const headers = await bearer(['faults:read', 'faults:write', 'fault_rules:write'], 'faults:read')
      assert.equal((await request('GET', '/api/v1/test/faults', headers)).statusCode, 200)
      const write = await request('POST', '/api/v1/test/faults', headers, {})
      assert.equal(write.headers['www-authenticate'], 'Bearer realm="fleet-faults", error="insufficient_scope", scope="faults:write"')
      const rules = await request('POST', '/api/v1/test/fault_rules', headers, {})
      assert.equal(rules.headers['www-authenticate'], 'Bearer realm="fleet-faults", error="insufficient_scope", scope="fault_rules:write"')
    })

    it('answers 403 on account administration, which needs an API key whatever the scopes', async () => {
      const headers = await bearer([
        'faults:read',
        'faults:write',
        'vehicles:read',
        'vehicles:write',
        'fault_rules:read',
        'fault_rules:write',
        'bulk:write',
      ])
      const cases: [string, string, object | undefined][] = [
        ['POST', '/api/v1/users', { email: 'client-made@example.com', role: 'viewer' }],
        ['POST', '/api/v1/api_keys', {}],
        ['POST', '/api/v1/oauth_clients', { name: 'escalation', scopes: ['faults:read'] }],
        ['GET', '/api/v1/users/me', undefined],
      ]
      for (const [method, url, payload] of cases) {
        const response = await t.app.inject({ method: method as 'GET' | 'POST', url, headers, ...(payload ? { payload } : {}) })
        // /users/me needs no account but still a key: a bearer token names no user.
        expectForbidden(response, 'This endpoint needs an API key; OAuth clients cannot use it.')
        assert.equal(response.headers['www-authenticate'], 'Bearer realm="fleet-faults", error="insufficient_scope"', `${method} ${url}`)
      }
    })
  })
})
