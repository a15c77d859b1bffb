// Problem Details (RFC 9457): the typed error every handler throws, and the catalogue of types.
import { STATUS_CODES } from 'node:http'

export interface ProblemType {
  slug: string
  status: number
  title: string
  /** What the human page at /problems/<slug> explains: cause and what the client should do. */
  description: string
}

/** Stable problem types; anything not here is `about:blank` with the status phrase as title. */
export const problemTypes = {
  validation: {
    slug: 'validation-error',
    status: 422,
    title: 'Validation failed',
    description: 'One or more fields are invalid. `errors` maps each field to its messages; fix them all and retry.',
  },
  malformedRequest: {
    slug: 'malformed-request',
    status: 400,
    title: 'Malformed request',
    description: 'The request could not be read: the body is not valid JSON, is not an object, or a length is wrong.',
  },
  invalidParameter: {
    slug: 'invalid-parameter',
    status: 400,
    title: 'Invalid parameter',
    description: 'A query parameter, path parameter or header has a value this endpoint does not accept.',
  },
  unauthenticated: {
    slug: 'authentication-required',
    status: 401,
    title: 'Authentication required',
    description:
      'Send `Authorization: Token <api key>` with `Account-Token: <account token>`, or `Authorization: Bearer <access token>` from /oauth/token.',
  },
  forbidden: {
    slug: 'forbidden',
    status: 403,
    title: 'Insufficient permissions',
    description: "The credentials are valid but the user's role or the token's scopes do not allow this action.",
  },
  conflict: {
    slug: 'conflict',
    status: 409,
    title: 'Conflict with the current state',
    description: 'The request conflicts with the current state of the resource; `detail` says how.',
  },
  idempotencyKeyInUse: {
    slug: 'idempotency-key-in-use',
    status: 409,
    title: 'Idempotency key in use',
    description: 'A request with this Idempotency-Key is still being processed. Retry after it completes.',
  },
  idempotencyKeyReused: {
    slug: 'idempotency-key-reused',
    status: 422,
    title: 'Idempotency key reused',
    description: 'This Idempotency-Key was already used with a different request. Use a new key for a new request.',
  },
  rateLimited: {
    slug: 'rate-limit-exceeded',
    status: 429,
    title: 'Rate limit exceeded',
    description: 'Too many requests for this account in the current window. Wait `Retry-After` seconds, or use the Bulk API.',
  },
  tooManyAuthFailures: {
    slug: 'too-many-authentication-failures',
    status: 429,
    title: 'Too many failed authentications',
    description: 'Too many failed authentication attempts from this address. Wait `Retry-After` seconds.',
  },
  maintenance: {
    slug: 'maintenance',
    status: 503,
    title: 'Down for maintenance',
    description: 'The API is in maintenance mode. Retry after `Retry-After` seconds (at least two minutes).',
  },
  unavailable: {
    slug: 'service-unavailable',
    status: 503,
    title: 'Service unavailable',
    description: 'The server is shutting down or its database does not answer. Retry after `Retry-After` seconds.',
  },
} as const satisfies Record<string, ProblemType>

export type Extensions = Record<string, unknown>

/** An error that renders as application/problem+json. Throw it (or a subclass) from anywhere. */
export class Problem extends Error {
  readonly status: number
  readonly type: string
  readonly title: string
  readonly detail: string
  readonly extensions: Extensions
  readonly headers: Record<string, string>

  constructor(type: ProblemType | number, detail: string, options: { extensions?: Extensions; headers?: Record<string, string> } = {}) {
    super(detail)
    if (typeof type === 'number') {
      this.status = type
      this.type = 'about:blank'
      this.title = STATUS_CODES[type] ?? 'Error'
    } else {
      this.status = type.status
      this.type = `/problems/${type.slug}`
      this.title = type.title
    }
    this.detail = detail
    this.extensions = options.extensions ?? {}
    this.headers = options.headers ?? {}
  }

  /** The JSON before `instance`, when there are no extensions: most problems are sent as they were built. */
  #head: string | null | undefined

  /** The body as JSON text (what sendProblem sends). */
  json(requestId: string): string {
    this.#head ??=
      Object.keys(this.extensions).length === 0
        ? JSON.stringify({ type: this.type, title: this.title, status: this.status, detail: this.detail }).slice(0, -1)
        : null
    if (this.#head === null) return JSON.stringify(this.body(requestId))
    return `${this.#head},"instance":${JSON.stringify(`urn:fleet-faults:request:${requestId}`)}}`
  }

  body(requestId: string): Record<string, unknown> {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.detail,
      instance: `urn:fleet-faults:request:${requestId}`,
      ...this.extensions,
    }
  }
}

export class NotFound extends Problem {
  constructor(detail = 'The requested resource does not exist.') {
    super(404, detail)
  }
}

/** Field → messages, the Fleetio `errors` hash. */
export type FieldErrors = Record<string, string[]>

export class ValidationFailed extends Problem {
  constructor(errors: FieldErrors) {
    const fields = Object.keys(errors).length
    super(problemTypes.validation, `${fields} ${fields === 1 ? 'field is' : 'fields are'} invalid`, {
      extensions: { errors },
    })
  }
}
