// Factories: accounts, members, keys and OAuth clients made through the real repository functions.
import { randomBytes } from 'node:crypto'
import { after, before } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { Role, Scope } from '../../src/http/access.js'
import { CURRENT_API_VERSION } from '../../src/http/api-version.js'
import { createClient, createKey } from '../../src/modules/identity/keys.repository.js'
import { addMembership, createAccount, findOrCreateUser } from '../../src/modules/identity/members.repository.js'
import { buildTestApp, type TestAppOptions } from './app.js'

export interface Caller {
  userId: number
  apiKey: string
  /** Authorization + Account-Token for this caller in its account. */
  headers: Record<string, string>
}

export interface TestAccount extends Caller {
  accountId: number
  accountToken: string
}

const unique = () => randomBytes(4).toString('hex')

export function keyHeaders(apiKey: string, accountToken: string): Record<string, string> {
  return { authorization: `Token ${apiKey}`, 'account-token': accountToken }
}

/** A new account with its admin (the caller returned). */
export async function makeAccount(app: FastifyInstance, name = `Fleet ${unique()}`): Promise<TestAccount> {
  const created = await app.database.db
    .transaction()
    .execute((trx) => createAccount(trx, { name, email: `admin-${unique()}@example.com`, first_name: 'Ada', last_name: 'Admin' }))
  return {
    accountId: created.account.id,
    accountToken: created.account.account_token,
    userId: created.user.id,
    apiKey: created.api_key,
    headers: keyHeaders(created.api_key, created.account.account_token),
  }
}

/** A new member of the account with the given role, and a key of theirs. */
export async function makeMember(app: FastifyInstance, account: TestAccount, role: Role): Promise<Caller> {
  const db = app.database.db
  const userId = await db.transaction().execute(async (trx) => {
    const member = { email: `${role}-${unique()}@example.com`, first_name: role, last_name: 'Member', role }
    const id = await findOrCreateUser(trx, member)
    await addMembership(trx, account.accountId, id, member)
    return id
  })
  const apiKey = await ownKey(app, userId, `${role} key`)
  return { userId, apiKey, headers: keyHeaders(apiKey, account.accountToken) }
}

/** A key the user made for themself (bound to no account): its secret. */
export async function ownKey(app: FastifyInstance, userId: number, name = 'own key'): Promise<string> {
  const key = await createKey(app.database.db, { userId, accountId: null }, name, CURRENT_API_VERSION)
  return key.api_key
}

export interface Team {
  app: FastifyInstance
  /** The account, as its admin. */
  acme: TestAccount
  editor: Caller
  viewer: Caller
}

/**
 * For a describe block: an app of its own, made before its tests and closed after them, with an
 * account (Acme) that has an admin, an editor and a viewer. The object is filled in by the first test.
 */
export function useTeam(options: TestAppOptions = { env: { AUTH_FAILURE_LIMIT: '1000' } }): Team {
  const team = {} as Team
  let close = async () => {}
  before(async () => {
    const t = await buildTestApp(options)
    close = () => t.close()
    const acme = await makeAccount(t.app, 'Acme')
    Object.assign(team, {
      app: t.app,
      acme,
      editor: await makeMember(t.app, acme, 'editor'),
      viewer: await makeMember(t.app, acme, 'viewer'),
    })
  })
  after(() => close())
  return team
}

export async function makeClient(app: FastifyInstance, account: TestAccount, scopes: Scope[]) {
  const client = await createClient(app.database.db, account.accountId, account.userId, { name: `client ${unique()}`, scopes })
  return { id: client.id, clientId: client.client_id, clientSecret: client.client_secret }
}

/** An access token for the client, through POST /oauth/token. */
export async function bearerToken(
  app: FastifyInstance,
  client: { clientId: string; clientSecret: string },
  scope?: string,
): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      ...(scope ? { scope } : {}),
    },
  })
  if (response.statusCode !== 200) throw new Error(`token request failed: ${response.body}`)
  return response.json().access_token
}
