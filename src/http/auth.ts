// Authentication and authorization for every route that declares a permission (CONTRACT §2).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { authorize, needsAccount, type Permission, type Principal } from './access.js'
import { requestedVersion } from './api-version.js'
import type { PrincipalCache } from './principal-cache.js'
import { Problem, problemTypes } from './problem.js'
import { enforceAccountQuota, type Quota, setRateLimitHeaders } from './rate-limit.js'
import { useApiVersion } from './request-context.js'
import { addRouteHook, addRouteHookFor } from './route-hooks.js'

const REALM = 'realm="fleet-faults"'
const CHALLENGE = `Token ${REALM}, Bearer ${REALM}`
const INVALID_TOKEN_CHALLENGE = `Token ${REALM}, Bearer ${REALM}, error="invalid_token"`

export interface Credentials {
  /** Resolves an API key (and the Account-Token, when given) to a principal; null when not valid. */
  apiKey(key: string, accountToken: string | undefined): Promise<Principal | null>
  /** Resolves an OAuth access token to a principal; null when not valid, expired or revoked. */
  accessToken(token: string): Promise<Principal | null>
}

export interface AuthOptions {
  credentials: Credentials
  /** Failed authentications per client address. */
  failures: Quota
  /** Requests per account. */
  quota: Quota
  /** Principals remembered per credential; emptied by every request to a route that changes credentials. */
  cache: PrincipalCache
  /** Tells the other processes serving this database that credentials changed (they empty their caches). */
  announceChange(): Promise<void>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route requires; a route without one is public. */
    permission?: Permission
    /** The route revokes or re-scopes credentials (keys, clients, memberships): remembered principals are dropped. */
    changesCredentials?: boolean
  }
  interface FastifyRequest {
    principal: Principal | null
    /** The caller's account on account routes; 0 elsewhere, which matches no row. */
    accountId: number
  }
}

type Parsed = { scheme: 'token'; value: string } | { scheme: 'bearer'; value: string } | null

/** `Token <key>`, `Token token="<key>"` or `Bearer <token>`; anything else is no credential. */
export function parseAuthorization(header: string | undefined): Parsed {
  if (!header) return null
  const match = /^\s*(Token|Bearer)\s+(.+?)\s*$/i.exec(header)
  if (!match?.[1] || !match[2]) return null
  const scheme = match[1].toLowerCase()
  if (scheme === 'bearer') return { scheme: 'bearer', value: match[2] }
  const quoted = /^token="([^"]+)"$/i.exec(match[2])
  return { scheme: 'token', value: quoted?.[1] ?? match[2] }
}

function unauthenticated(challenge = CHALLENGE): Problem {
  return new Problem(problemTypes.unauthenticated, 'The request could not be authenticated.', {
    headers: { 'WWW-Authenticate': challenge },
  })
}

async function authPlugin(app: FastifyInstance, options: AuthOptions): Promise<void> {
  app.decorateRequest('principal', null)
  app.decorateRequest('accountId', 0)

  async function identify(request: FastifyRequest, reply: FastifyReply, permission: Permission): Promise<Principal> {
    const parsed = parseAuthorization(request.headers.authorization)
    const accountToken = request.headers['account-token']
    const token = typeof accountToken === 'string' && accountToken.length > 0 ? accountToken : undefined
    let principal: Principal | null = null
    if (parsed?.scheme === 'token') {
      const key = parsed.value
      principal = await options.cache.lookup(`token\n${key}\n${token ?? ''}`, () => options.credentials.apiKey(key, token))
    } else if (parsed?.scheme === 'bearer') {
      const bearer = parsed.value
      principal = await options.cache.lookup(`bearer\n${bearer}`, () => options.credentials.accessToken(bearer))
    }
    // An Account-Token names an account the call must be a member of, even where none is needed.
    const accountSatisfied = principal?.accountId !== null || (!needsAccount(permission) && token === undefined)
    if (principal && accountSatisfied) return principal
    setRateLimitHeaders(reply, 'auth-failures', options.failures, await options.failures.counter.hit(request.ip))
    throw unauthenticated(parsed?.scheme === 'bearer' ? INVALID_TOKEN_CHALLENGE : CHALLENGE)
  }

  // On the routes that declare a permission (public routes and 404s never run it), made per route.
  addRouteHookFor(app, 'onRequest', (route) => {
    const permission = route.config?.permission
    if (permission === undefined) return undefined
    const changesCredentials = route.config?.changesCredentials === true
    return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
      authenticate(request, reply, permission, changesCredentials).then(() => done(), done)
    }
  })

  // A change to credentials empties the cache when it starts, and again once it is committed (the handler
  // has returned): a lookup that read the old state in between is dropped too. Then the other replicas.
  const announce = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
    if (reply.statusCode >= 400) return done(null, payload)
    options.cache.invalidate()
    options.announceChange().then(
      () => done(null, payload),
      (error: unknown) => {
        request.log.warn({ err: error }, 'could not tell the other replicas that credentials changed')
        done(null, payload)
      },
    )
  }
  addRouteHook(app, 'onSend', announce, (route) => route.config?.changesCredentials === true)

  async function authenticate(request: FastifyRequest, reply: FastifyReply, permission: Permission, changesCredentials: boolean) {
    reply.header('Cache-Control', 'no-store')
    const failures = await options.failures.counter.peek(request.ip)
    if (failures.remaining === 0) {
      setRateLimitHeaders(reply, 'auth-failures', options.failures, failures)
      throw new Problem(problemTypes.tooManyAuthFailures, 'Too many failed authentications from this address.', {
        headers: { 'Retry-After': String(failures.resetSeconds) },
      })
    }
    const principal = await identify(request, reply, permission)
    await enforceAccountQuota(reply, principal, options.quota)
    useApiVersion(request, reply, requestedVersion(request.headers['x-api-version']) ?? principal.apiVersion)
    const decision = authorize(principal, permission)
    if (!decision.allowed) {
      const headers: Record<string, string> =
        principal.kind === 'bearer'
          ? { 'WWW-Authenticate': `Bearer ${REALM}, error="insufficient_scope"${decision.scope ? `, scope="${decision.scope}"` : ''}` }
          : {}
      throw new Problem(problemTypes.forbidden, decision.detail, { headers })
    }
    request.principal = principal
    request.accountId = principal.accountId ?? 0
    if (changesCredentials) options.cache.invalidate()
  }
}

export const auth = fp(authPlugin, { name: 'auth' })
