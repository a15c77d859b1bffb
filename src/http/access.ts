// Who may do what (CONTRACT §2): roles per membership, OAuth scopes, and what each route requires.

export const SCOPES = [
  'faults:read',
  'faults:write',
  'vehicles:read',
  'vehicles:write',
  'fault_rules:read',
  'fault_rules:write',
  'bulk:write',
] as const
export type Scope = (typeof SCOPES)[number]

export const ROLES = ['admin', 'editor', 'viewer'] as const
export type Role = (typeof ROLES)[number]

/**
 * What a route requires. A scope is for fleet data (keys by role, bearer tokens by scope);
 * `member` and `admin` are account administration (API keys only); `user` needs only a key,
 * no account (GET /users/me, GET /accounts).
 */
export type Permission = Scope | 'member' | 'admin' | 'user'

/** The least role each permission needs from an API key's user. */
const minimumRole: Record<Permission, Role | null> = {
  'faults:read': 'viewer',
  'vehicles:read': 'viewer',
  'fault_rules:read': 'viewer',
  'faults:write': 'editor',
  'vehicles:write': 'editor',
  'bulk:write': 'editor',
  'fault_rules:write': 'admin',
  member: 'viewer',
  admin: 'admin',
  user: null,
}

const rank: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 }

export interface Principal {
  kind: 'key' | 'bearer'
  /** The key's user; null for a bearer token (an OAuth client acts for its account). */
  userId: number | null
  /** The account the call acts in; null for key-only calls made without Account-Token. */
  accountId: number | null
  /**
   * The one account an API key may act in, when an admin made it for another member (it is refused
   * with any other Account-Token, and key-only calls see only this account); null for a key a user
   * made for themself, which acts in all their accounts, and for bearer tokens.
   */
  boundAccountId: number | null
  role: Role | null
  /** A bearer token's scopes; null for an API key (its user's role decides). */
  scopes: readonly Scope[] | null
  /** The API version the credential is pinned to. */
  apiVersion: string
  /** When the credential itself stops being valid (ms since the epoch): a bearer token's expiry. */
  expiresAt?: number
  /** The OAuth client a bearer token was issued to. */
  clientId?: string
}

export function needsAccount(permission: Permission): boolean {
  return permission !== 'user'
}

export type Decision = { allowed: true } | { allowed: false; detail: string; scope?: Scope }

/** The one place that decides whether a principal may use a route. */
export function authorize(principal: Principal, permission: Permission): Decision {
  if (principal.kind === 'bearer') {
    if (permission === 'member' || permission === 'admin' || permission === 'user') {
      return { allowed: false, detail: 'This endpoint needs an API key; OAuth clients cannot use it.' }
    }
    if (principal.scopes?.includes(permission)) return { allowed: true }
    return { allowed: false, detail: `This token lacks the ${permission} scope.`, scope: permission }
  }
  const needed = minimumRole[permission]
  if (needed === null) return { allowed: true }
  if (principal.role !== null && rank[principal.role] >= rank[needed]) return { allowed: true }
  return { allowed: false, detail: `This action needs the ${needed} role; you are ${principal.role ?? 'not a member'}.` }
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value)
}
