// Conditional requests (RFC 9110 §13, CONTRACT §9): strong ETags, 304 on If-None-Match, 412 on a failed If-Match.
import { hash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { Problem } from './problem.js'

/** The two representations a resource has (CONTRACT §3). */
export type Variant = 'json' | 'hal'

/**
 * The strong ETag of one representation: a digest of the plain (JSON) resource, suffixed `-hal` for HAL.
 * A strong validator names exact content, and the HAL body differs from the plain one, so the tags differ;
 * both derive from the same state, which lets If-Match accept either (see assertPreconditions).
 * The digest is of the resource's JSON as written: each resource type is built by one mapper (toFault,
 * toVehicle, …), whatever route reads it, so equal state gives equal JSON and an equal tag. (Sorting the
 * keys first cost three times as much, on every GET.)
 */
export function entityTag(resource: unknown, variant: Variant = 'json'): string {
  const digest = hash('sha256', JSON.stringify(resource), 'base64url').slice(0, 27)
  return `"${digest}${variant === 'hal' ? '-hal' : ''}"`
}

interface ListedTag {
  weak: boolean
  /** The tag with its quotes, as our ETags are written. */
  tag: string
}

/** One list member: an optionally weak quoted tag followed by a comma or the end. */
const MEMBER = /[ \t]*(W\/)?("[^"]*")[ \t]*(?:,|$)/y

/** `*`, or the well-formed entity-tags listed; a malformed member (e.g. unquoted) is skipped, so it matches nothing. */
function parseTags(field: string): '*' | ListedTag[] {
  if (field.trim() === '*') return '*'
  const tags: ListedTag[] = []
  let index = 0
  while (index < field.length) {
    MEMBER.lastIndex = index
    const match = MEMBER.exec(field)
    if (match) {
      tags.push({ weak: match[1] !== undefined, tag: match[2] ?? '' })
      index = MEMBER.lastIndex
      continue
    }
    const comma = field.indexOf(',', index)
    if (comma === -1) break
    index = comma + 1
  }
  return tags
}

function headerOf(request: FastifyRequest, name: 'if-match' | 'if-none-match'): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

const safeMethod = (request: FastifyRequest) => request.method === 'GET' || request.method === 'HEAD'

/**
 * RFC 9110 §13.2.2 against the current tags of an existing resource: If-Match (strong comparison) first,
 * then If-None-Match (weak comparison). There is no Last-Modified, so the date conditions never apply.
 * Call it only once the request is known to succeed otherwise: a 404 or 422 comes before a 412.
 */
export function evaluatePreconditions(request: FastifyRequest, current: readonly string[]): 'proceed' | 'not-modified' {
  const ifMatch = headerOf(request, 'if-match')
  if (ifMatch !== undefined) {
    const listed = parseTags(ifMatch)
    if (listed !== '*' && !listed.some(({ weak, tag }) => !weak && current.includes(tag))) {
      throw new Problem(412, 'The resource has changed since the ETag in If-Match was issued. Fetch it again and retry with its ETag.')
    }
  }
  const ifNoneMatch = headerOf(request, 'if-none-match')
  if (ifNoneMatch !== undefined) {
    const listed = parseTags(ifNoneMatch)
    if (listed === '*' || listed.some(({ tag }) => current.includes(tag))) {
      if (safeMethod(request)) return 'not-modified'
      throw new Problem(412, 'If-None-Match matches the current resource, so the request was not applied.')
    }
  }
  return 'proceed'
}

/**
 * For PATCH and DELETE, after the resource was loaded (404 wins) and the body validated (422 wins):
 * throws the 412 problem when the client's If-Match no longer names the resource's current state.
 */
export function assertPreconditions(request: FastifyRequest, current: unknown): void {
  evaluatePreconditions(request, [entityTag(current, 'json'), entityTag(current, 'hal')])
}
