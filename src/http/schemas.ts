// Schemas every route shares: problem documents, id params, and response declarations built from them.
import { type Static, type TSchema, Type } from 'typebox'

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ maxLength: 255, description: 'URI reference of the problem type (`about:blank` or `/problems/<slug>`)' }),
    title: Type.String({ maxLength: 255 }),
    status: Type.Integer({ minimum: 400, maximum: 599, format: 'int32' }),
    detail: Type.String({ maxLength: 4096 }),
    instance: Type.String({ maxLength: 255, description: 'This occurrence; carries the request id' }),
  },
  { additionalProperties: true, $id: 'Problem' },
)

export const ValidationProblemSchema = Type.Object(
  {
    ...ProblemSchema.properties,
    errors: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.String({ maxLength: 255 }), { maxItems: 20 }), {
        description: 'Field → human-readable messages (Fleetio style); absent for /problems/idempotency-key-reused',
      }),
    ),
  },
  { additionalProperties: true },
)

export const IdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 9007199254740991, format: 'int64', description: 'Positive integer id' }),
})

const statusDescriptions: Record<number, string> = {
  400: 'Malformed request or invalid parameter',
  401: 'Missing or invalid credentials',
  403: 'Role or scope does not allow this',
  404: 'No such resource',
  405: 'Method not allowed on this path',
  406: 'No acceptable representation',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Body too large',
  415: 'Unsupported media type',
  422: 'Validation failed',
  429: 'Rate limit exceeded',
  500: 'Unexpected failure',
  503: 'Maintenance, shutting down or database unavailable',
}

const header = (description: string, schema: TSchema = Type.String({ maxLength: 1024 })) => ({ ...schema, description })
const seconds = Type.Integer({ minimum: 0, maximum: 86400, format: 'int32' })

const problemHeaders: Record<number, Record<string, TSchema>> = {
  401: { 'WWW-Authenticate': header('Token and Bearer challenges') },
  405: { Allow: header('Methods this path supports') },
  415: { 'Accept-Post': header('Media types accepted by POST'), 'Accept-Patch': header('Media types accepted by PATCH') },
  429: { 'Retry-After': header('Seconds to wait', seconds) },
  503: { 'Retry-After': header('Seconds to wait', seconds) },
}

/** Response declarations for the given error statuses, all application/problem+json. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  const responses: Record<number, unknown> = {}
  for (const status of statuses) {
    responses[status] = {
      description: statusDescriptions[status] ?? 'Error',
      ...(problemHeaders[status] ? { headers: problemHeaders[status] } : {}),
      content: { 'application/problem+json': { schema: status === 422 ? ValidationProblemSchema : ProblemSchema } },
    }
  }
  return responses
}

/** Errors any route can answer whatever it does: negotiation, availability, the unexpected. */
export const commonProblems = [400, 406, 500, 503] as const

/** Errors every authenticated API route can answer, plus the route's own. */
export function apiProblems(...own: number[]): Record<number, unknown> {
  return problemResponses(...new Set([400, 401, 403, 406, 429, 500, 503, ...own]))
}

export const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991, format: 'int64' })
export const Timestamp = Type.String({ format: 'date-time', maxLength: 40, description: 'ISO-8601 with offset' })
/**
 * `schema` or null. A schema of one primitive type becomes `type: [that type, 'null']` rather than an anyOf:
 * to serialize an anyOf, fast-json-stringify runs a validator on each value to pick its branch (a third of
 * the cost of serializing a page of faults). Other schemas (enums, objects) stay an anyOf.
 */
export const Nullable = <T extends TSchema>(schema: T) => {
  const type = (schema as { type?: unknown }).type
  if (typeof type === 'string' && type !== 'object' && type !== 'array' && type !== 'null') {
    return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] })
  }
  return Type.Union([schema, Type.Null()])
}

/** RateLimit / RateLimit-Policy (CONTRACT §8), declared on responses that carry them. */
export const rateLimitHeaders = {
  RateLimit: header('"<policy>";r=<remaining>;t=<seconds until more quota>', Type.String({ maxLength: 255 })),
  'RateLimit-Policy': header('"<policy>";q=<quota>;w=<window seconds>', Type.String({ maxLength: 255 })),
}

type ResponseDeclaration = { headers?: Record<string, unknown> } & Record<string, unknown>

/** Adds the rate-limit headers to every 2xx-4xx response declaration (5xx come before or outside counting). */
export function withRateLimitHeaders(responses: Record<number | string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const [status, value] of Object.entries(responses)) {
    const declared = value as ResponseDeclaration
    result[status] = Number(status) >= 500 ? declared : { ...declared, headers: { ...declared.headers, ...rateLimitHeaders } }
  }
  return result
}

/** The Idempotency-Key request header (CONTRACT §7), for routes that create. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ maxLength: 257, description: 'Makes the create safe to retry: 1-255 printable characters, kept 24 hours' }),
  ),
})
