// What the HTTP tests share: the response type, the 422 check, one resource's calls, walking a list by its Link header.
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { expectProblem } from './app.js'

export type Injected = Awaited<ReturnType<FastifyInstance['inject']>>
export type Headers = Record<string, string>
export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

/** The fields of an API key as listed (sorted): no hash, no secret. Its creation adds `api_key`, the secret. */
export const API_KEY_FIELDS = ['account_id', 'api_version', 'created_at', 'id', 'last_used_at', 'name', 'prefix', 'user_id']
/** An ISO-8601 date-time with an offset (CONTRACT §1). */
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
export const ETAG = /^"[\w-]+"$/
/** An If-Match no representation has. */
export const STALE = '"stale-etag-of-nothing"'
/** An id no record has. */
export const MISSING = 999_999_999
export const BLANK = ["can't be blank"]
export const TOO_LONG = ['is too long (maximum is 255 characters)']
export const NOT_ALLOWED = ['is not a valid value. Please specify one of the predefined values for this field.']

/** Asserts a 422 validation problem (CONTRACT §5) with exactly these errors. */
export function expectInvalid(response: Injected, errors: Record<string, string[]>) {
  const body = expectProblem(response, 422, '/problems/validation-error')
  const count = Object.keys(errors).length
  assert.equal(body.title, 'Validation failed')
  assert.equal(body.detail, `${count} ${count === 1 ? 'field is' : 'fields are'} invalid`)
  assert.deepEqual(body.errors, errors)
}

interface Target {
  app: FastifyInstance
  /** Who calls unless a call names someone else. */
  as: { headers: Headers }
}

/**
 * The calls the tests of the resource at `path` make. `target` is read at each call, since the app
 * and its callers are made in before(); `defaults` fills what `created()` needs to succeed.
 */
export function resourceCalls<T>(path: string, target: () => Target, defaults: () => object = () => ({})) {
  const call = (method: Method, url: string, payload?: unknown, headers: Headers = {}, as = target().as) =>
    target().app.inject({
      method,
      url,
      headers: { ...as.headers, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    })
  const create = (payload: object, headers?: Headers) => call('POST', path, payload, headers)
  return {
    call,
    create,
    show: (id: number, headers?: Headers) => call('GET', `${path}/${id}`, undefined, headers),
    patch: (id: number, payload: unknown, headers?: Headers) => call('PATCH', `${path}/${id}`, payload, headers),
    remove: (id: number, headers?: Headers) => call('DELETE', `${path}/${id}`, undefined, headers),
    /** Creates (the defaults overridden by `payload`), asserts 201 and returns the body. */
    async created(payload: object = {}): Promise<T> {
      const response = await create({ ...defaults(), ...payload })
      assert.equal(response.statusCode, 201, response.body)
      return response.json()
    },
  }
}

export interface Page<T> {
  start_cursor: string | null
  next_cursor: string | null
  per_page: number
  estimated_remaining_count: number
  records: T[]
  [member: string]: unknown
}

/**
 * Follows `Link: rel="next"` from `url` to the last page, checking on the way that each page counts
 * down the `total` and has a Link exactly when it has a next cursor; `check` may look at more. Returns
 * the ids in the order seen, every record exactly once.
 */
export async function walkPages<T extends { id: number }>(
  get: (url: string) => Promise<Injected>,
  url: string,
  total: number,
  check: (page: Page<T>, response: Injected, previous: string | null) => void = () => {},
): Promise<number[]> {
  const seen: number[] = []
  let next: string | undefined = url
  let previous: string | null = null
  while (next) {
    const response = await get(next)
    assert.equal(response.statusCode, 200, response.body)
    const page = response.json() as Page<T>
    assert.equal(page.estimated_remaining_count, total - seen.length)
    check(page, response, previous)
    seen.push(...page.records.map((record) => record.id))
    previous = page.next_cursor
    next = /^<([^>]+)>; rel="next"$/.exec(String(response.headers.link))?.[1]
    assert.equal(next === undefined, page.next_cursor === null, 'a Link exactly when there is a next page')
  }
  assert.equal(new Set(seen).size, total, 'every record exactly once')
  return seen
}

/** The default order of a sort[created_at]=desc list: newest first, ties by id desc. */
export const newestFirst = (a: { id: number; created_at: string }, b: { id: number; created_at: string }) =>
  a.created_at === b.created_at ? b.id - a.id : a.created_at < b.created_at ? 1 : -1

/** The cursor with one character changed: its signature no longer holds. */
export const tampered = (cursor: string) => `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`
