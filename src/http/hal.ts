// HAL (draft-kelly-json-hal, CONTRACT §3): resources with _links, lists as _embedded.records, and their schemas.
import { type TObject, Type } from 'typebox'
import { MAX_PER_PAGE } from './list-query.js'
import { envelopeFields, type ListPage } from './pagination.js'

/**
 * Relation → absolute path (`/api/v1/faults/12`). `self` is required; a relation whose target is absent
 * (a fault without a rule: `fault_rule: null`) is left out rather than linked to nothing.
 */
export type Links = { self: string } & Readonly<Record<string, string | null | undefined>>

export type HalLinks = Record<string, { href: string }>

export const HalLink = Type.Object({ href: Type.String({ maxLength: 4096 }) })
const HalLinksSchema = Type.Record(Type.String(), HalLink, { description: 'Relation → link; `self` is always present' })

function toHalLinks(links: Links): HalLinks {
  const result: HalLinks = {}
  for (const [rel, href] of Object.entries(links)) if (typeof href === 'string') result[rel] = { href }
  return result
}

/** The plain resource plus `_links`. */
export function halResource<T extends object>(resource: T, links: Links): T & { _links: HalLinks } {
  return { ...resource, _links: toHalLinks(links) }
}

/** A list page as HAL: `_links` self/next, the records under `_embedded.records`, the other envelope fields as they are. */
export function halList<T extends object>(page: ListPage<T>, hrefs: { self: string; next: string | null }, linksOf: (record: T) => Links) {
  const { records, ...envelope } = page
  return {
    _links: toHalLinks({ self: hrefs.self, next: hrefs.next }),
    _embedded: { records: records.map((record) => halResource(record, linksOf(record))) },
    ...envelope,
  }
}

export function HalResource<T extends TObject>(schema: T) {
  return Type.Object({ ...(schema.properties as T['properties']), _links: HalLinksSchema })
}

export function HalList<T extends TObject>(schema: T) {
  return Type.Object({
    _links: Type.Object({ self: HalLink, next: Type.Optional(HalLink) }),
    _embedded: Type.Object({ records: Type.Array(HalResource(schema), { maxItems: MAX_PER_PAGE }) }),
    ...envelopeFields,
  })
}
