// POST /oauth/token: the OAuth 2.0 client credentials grant (RFC 6749 §4.4), with RFC 6749 errors.
import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { isScope, type Scope } from '../../http/access.js'
import { sendProblem, toProblem } from '../../http/errors.js'
import { Problem, problemTypes } from '../../http/problem.js'
import { type Quota, setRateLimitHeaders } from '../../http/rate-limit.js'
import { problemResponses, withRateLimitHeaders } from '../../http/schemas.js'
import { hashSecret } from './credentials.js'
import { findActiveClient } from './credentials.repository.js'
import type { TokenService } from './tokens.js'

type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope'

class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly basicChallenge = false,
  ) {
    super(description)
  }
}

const OAuthErrorBody = Type.Object({
  error: Type.Enum(['invalid_request', 'invalid_client', 'unsupported_grant_type', 'invalid_scope']),
  error_description: Type.String({ maxLength: 255 }),
})

const TokenRequest = Type.Object(
  {
    grant_type: Type.Optional(Type.String({ maxLength: 64 })),
    client_id: Type.Optional(Type.String({ maxLength: 64 })),
    client_secret: Type.Optional(Type.String({ maxLength: 128 })),
    scope: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: true },
)

const TokenResponse = Type.Object({
  access_token: Type.String({ maxLength: 2048 }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ minimum: 1, maximum: 86400, format: 'int32' }),
  scope: Type.String({ maxLength: 1024 }),
})

/** Client credentials from HTTP Basic or form fields; using both at once is invalid (RFC 6749 §2.3). */
function clientCredentials(request: FastifyRequest, body: { client_id?: string; client_secret?: string }) {
  const header = request.headers.authorization
  const basic = header ? /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null
  if (basic?.[1]) {
    if (body.client_id !== undefined || body.client_secret !== undefined) {
      throw new OAuthError('invalid_request', 'Send client credentials either by HTTP Basic or in the body, not both.')
    }
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials.', true)
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)), basic: true }
  }
  if (!body.client_id || !body.client_secret) throw new OAuthError('invalid_client', 'Client authentication is required.', Boolean(header))
  return { id: body.client_id, secret: body.client_secret, basic: false }
}

function grantedScopes(requested: string | undefined, allowed: Scope[]): Scope[] {
  if (requested === undefined || requested.trim() === '') return allowed
  const scopes = requested.trim().split(/\s+/)
  for (const scope of scopes) {
    if (!isScope(scope) || !allowed.includes(scope)) throw new OAuthError('invalid_scope', `Scope ${scope} is not granted to this client.`)
  }
  return [...new Set(scopes)] as Scope[]
}

function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  const status = error.code === 'invalid_client' ? 401 : 400
  if (error.basicChallenge) reply.header('WWW-Authenticate', 'Basic realm="fleet-faults", charset="UTF-8"')
  return reply.code(status).send({ error: error.code, error_description: error.description })
}

export const tokenRoutes: FastifyPluginAsyncTypebox<{ tokens: TokenService; failures: Quota }> = async (app, { tokens, failures }) => {
  await app.register(formbody, { bodyLimit: 8192 })
  // Limited by failed client authentications per address; every answer says how many are left.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache')
    const state = await failures.counter.peek(request.ip)
    setRateLimitHeaders(reply, 'auth-failures', failures, state)
    if (state.remaining === 0) {
      throw new Problem(problemTypes.tooManyAuthFailures, 'Too many failed authentications from this address.', {
        headers: { 'Retry-After': String(state.resetSeconds) },
      })
    }
  })
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof OAuthError) return sendOAuthError(reply, error)
    const problem = toProblem(error, request)
    if (problem.status === 415) {
      problem.headers['Accept-Post'] = 'application/x-www-form-urlencoded, application/json'
      return sendProblem(reply, problem)
    }
    if (problem.status >= 400 && problem.status < 500 && problem.status !== 429 && problem.status !== 413) {
      return sendOAuthError(reply, new OAuthError('invalid_request', 'The token request is malformed.'))
    }
    return sendProblem(reply, problem)
  })

  app.post(
    '/oauth/token',
    {
      schema: {
        tags: ['oauth'],
        summary: 'Exchange client credentials for an access token',
        description: 'OAuth 2.0 client credentials grant. Form-encoded or JSON; client authentication by HTTP Basic or form fields.',
        body: TokenRequest,
        security: [{ clientBasic: [] }],
        response: withRateLimitHeaders({
          200: { description: 'An access token', content: { 'application/json': { schema: TokenResponse } } },
          400: {
            description: 'invalid_request, unsupported_grant_type or invalid_scope',
            content: { 'application/json': { schema: OAuthErrorBody } },
          },
          401: { description: 'invalid_client', content: { 'application/json': { schema: OAuthErrorBody } } },
          ...problemResponses(413, 415, 429, 500, 503),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body
      if (body.grant_type === undefined) throw new OAuthError('invalid_request', 'grant_type is required.')
      const credentials = clientCredentials(request, body)
      const client = await findActiveClient(app.database.db, credentials.id)
      if (!client || client.secretHash !== hashSecret(credentials.secret)) {
        setRateLimitHeaders(reply, 'auth-failures', failures, await failures.counter.hit(request.ip))
        throw new OAuthError('invalid_client', 'Client authentication failed.', credentials.basic)
      }
      if (body.grant_type !== 'client_credentials') {
        throw new OAuthError('unsupported_grant_type', `Grant type ${body.grant_type} is not supported; use client_credentials.`)
      }
      const scopes = grantedScopes(body.scope, client.scopes.split(' ') as Scope[])
      const accessToken = await tokens.sign({ clientId: credentials.id, accountId: client.accountId, scopes })
      return { access_token: accessToken, token_type: 'Bearer' as const, expires_in: tokens.ttlSeconds, scope: scopes.join(' ') }
    },
  )
}
