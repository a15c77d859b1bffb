// Answering with resources and lists: the negotiated form (JSON or HAL), ETag and 304, Link, Prefer, and the declarations.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type TObject, type TSchema, Type } from 'typebox'
import { entityTag, evaluatePreconditions } from './conditional.js'
import { HalList, HalResource, halList, halResource, type Links } from './hal.js'
import { HAL_TYPE, JSON_TYPE } from './negotiation.js'
import { ListEnvelope, type ListPage, pageHref, setNextLink } from './pagination.js'
import { preferenceApplied, preferReturn, varyOnPrefer } from './prefer.js'

const mediaType = (request: FastifyRequest) => (request.hal ? HAL_TYPE : JSON_TYPE)
const tagOf = (request: FastifyRequest, resource: object) => entityTag(resource, request.hal ? 'hal' : 'json')
const bodyOf = (request: FastifyRequest, resource: object, links: Links) => (request.hal ? halResource(resource, links) : resource)

/** GET one resource: the ETag of the chosen form; 304 when If-None-Match already names it, else 200 in that form. */
export function sendResource(request: FastifyRequest, reply: FastifyReply, resource: object, links: Links): FastifyReply {
  const etag = tagOf(request, resource)
  reply.header('ETag', etag)
  if (evaluatePreconditions(request, [etag]) === 'not-modified') return reply.code(304).send()
  return reply
    .code(200)
    .type(mediaType(request))
    .send(bodyOf(request, resource, links))
}

/** Prefer return=…: what the client asked for when it did, else the method's default; echoed only when asked. */
function chosenReturn(request: FastifyRequest, reply: FastifyReply, byDefault: 'representation' | 'minimal') {
  varyOnPrefer(reply)
  const preferred = preferReturn(request)
  if (preferred) preferenceApplied(reply, `return=${preferred}`)
  return preferred ?? byDefault
}

/** POST create: 201 with Location and ETag; the resource as body unless Prefer: return=minimal. */
export function sendCreated(request: FastifyRequest, reply: FastifyReply, resource: object, links: Links): FastifyReply {
  reply.code(201).header('Location', links.self).header('ETag', tagOf(request, resource))
  if (chosenReturn(request, reply, 'representation') === 'minimal') return reply.send()
  return reply.type(mediaType(request)).send(bodyOf(request, resource, links))
}

/** A create replayed with its Idempotency-Key: 200, the same Location and body, Idempotent-Replayed: true. */
export function sendReplayed(request: FastifyRequest, reply: FastifyReply, resource: object, links: Links): FastifyReply {
  return reply
    .code(200)
    .header('Location', links.self)
    .header('ETag', tagOf(request, resource))
    .header('Idempotent-Replayed', 'true')
    .type(mediaType(request))
    .send(bodyOf(request, resource, links))
}

/** PATCH: 204 with the new ETag; 200 and the resource with Prefer: return=representation (CONTRACT §4). */
export function sendUpdated(request: FastifyRequest, reply: FastifyReply, resource: object, links: Links): FastifyReply {
  reply.header('ETag', tagOf(request, resource))
  if (chosenReturn(request, reply, 'minimal') === 'minimal') return reply.code(204).send()
  return reply
    .code(200)
    .type(mediaType(request))
    .send(bodyOf(request, resource, links))
}

/** GET list: the envelope (or HAL list) in the chosen form, with `Link: rel="next"` when there is a next page. */
export function sendList<T extends object>(
  request: FastifyRequest,
  reply: FastifyReply,
  page: ListPage<T>,
  linksOf: (record: T) => Links,
): FastifyReply {
  setNextLink(request, reply, page)
  if (!request.hal) return reply.type(JSON_TYPE).send(page)
  const next = page.next_cursor ? pageHref(request, page.next_cursor) : null
  return reply.type(HAL_TYPE).send(halList(page, { self: request.url, next }, linksOf))
}

const header = (description: string, maxLength = 4096) => ({ ...Type.String({ maxLength }), description })
export const responseHeaders = {
  ETag: header('Strong validator of this representation, for If-None-Match and If-Match', 64),
  Location: header('Path of the created resource'),
  Link: header('<next page>; rel="next", when there is a next page'),
  'Preference-Applied': header('The Prefer preferences honoured, e.g. return=representation', 255),
  'Idempotent-Replayed': header('true: this answers an earlier request with the same Idempotency-Key and payload', 8),
} as const

/**
 * One response declaration with both media types. Fastify picks the serializer by the reply's Content-Type,
 * so each form is checked (and stripped of undeclared properties) against its own schema.
 */
function bothForms(json: TSchema, hal: TSchema, description: string, headers: Record<string, TSchema>) {
  return { description, headers, content: { [JSON_TYPE]: { schema: json }, [HAL_TYPE]: { schema: hal } } }
}

export function resourceResponse<T extends TObject>(schema: T, description: string, headers: Record<string, TSchema> = {}) {
  return bothForms(schema, HalResource(schema), description, { ETag: responseHeaders.ETag, ...headers })
}

export function listResponse<T extends TObject>(schema: T, description: string) {
  return bothForms(ListEnvelope(schema), HalList(schema), description, { Link: responseHeaders.Link })
}

/**
 * A response without a body (204, 304). `type: 'null'` is how @fastify/swagger leaves out `content`;
 * it is a plain object, not a TypeBox schema, so handlers may end with `reply.code(204).send()`.
 */
export function emptyResponse(description: string, headers: Record<string, TSchema> = {}): EmptyResponse {
  return { type: 'null', description, ...(Object.keys(headers).length > 0 ? { headers } : {}) }
}
interface EmptyResponse {
  /** Typed `string`, not `'null'`: the type provider would otherwise make `send()` demand a `null`. */
  type: string
  description: string
  headers?: Record<string, TSchema>
}

/** The headers of a 200 that replays a create (CONTRACT §7). */
export const replayHeaders = { Location: responseHeaders.Location, 'Idempotent-Replayed': responseHeaders['Idempotent-Replayed'] }
