// The identity lists (CONTRACT §6): what each sorts and filters on, and their HAL links.
import { ROLES } from '../../http/access.js'
import type { ListSpec } from '../../http/list-query.js'
import type { Account, ApiKey, OAuthClient, User } from './identity.schemas.js'

const createdAt = (column: string) => ({ type: 'datetime', column }) as const
const period = (column: string) => ({ type: 'datetime', ops: ['lt', 'lte', 'gt', 'gte'], column }) as const
const role = (column: string) => ({ type: 'enum', values: ROLES, ops: ['eq', 'include'], column }) as const

/** Members: the user's id is the record's id; created_at is when the user joined this account. */
export const membersList: ListSpec = {
  idColumn: 'users.id',
  sorts: { created_at: createdAt('memberships.created_at') },
  filters: {
    role: role('memberships.role'),
    email: { type: 'string', ops: ['eq', 'like'], column: 'users.email' },
    created_at: period('memberships.created_at'),
  },
}

export const keysList: ListSpec = {
  idColumn: 'api_keys.id',
  sorts: { created_at: createdAt('api_keys.created_at') },
  filters: {
    user_id: { type: 'integer', ops: ['eq', 'include'], column: 'api_keys.user_id' },
    created_at: period('api_keys.created_at'),
  },
}

export const clientsList: ListSpec = {
  idColumn: 'oauth_clients.id',
  sorts: { created_at: createdAt('oauth_clients.created_at') },
  filters: { created_at: period('oauth_clients.created_at') },
}

/** The caller's accounts; `id` is filterable so that each record has a URL of its own (its HAL self link). */
export const accountsList: ListSpec = {
  idColumn: 'accounts.id',
  filters: { id: { type: 'integer', ops: ['eq', 'include'], column: 'accounts.id' }, role: role('memberships.role') },
}

export const userLinks = (user: User) => ({ self: `/api/v1/users/${user.id}` })
export const keyLinks = (key: ApiKey) => ({ self: `/api/v1/api_keys/${key.id}`, user: `/api/v1/users/${key.user_id}` })
export const clientLinks = (client: OAuthClient) => ({ self: `/api/v1/oauth_clients/${client.id}` })
export const accountLinks = (account: Account) => ({ self: `/api/v1/accounts?filter[id][eq]=${account.id}` })
