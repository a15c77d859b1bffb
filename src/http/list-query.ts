// The list querystring (CONTRACT §6): its schema, and its parsing into a checked ListRequest or a 400 naming the parameter.
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { type CursorSecret, decodeCursor, fingerprintOf, type KeysetPosition, type SortDirection } from './cursor.js'
import { type AppliedFilter, type FilterSpec, invalidParameter, parseFilters } from './filters.js'

export const DEFAULT_PER_PAGE = 50
export const MAX_PER_PAGE = 100

/**
 * per_page and start_cursor are declared for ajv and OpenAPI. Fastify's querystring parser keeps
 * `filter[status][include]` and `sort[created_at]` as literal keys, so they are admitted by pattern
 * (as strings, any field name) and checked by parseListQuery, which can name the field in its 400.
 * Spread `.properties` and `.patternProperties` to add parameters of a resource's own.
 */
export const ListQuerystring = Type.Object(
  {
    per_page: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_PER_PAGE, format: 'int32', default: DEFAULT_PER_PAGE, description: 'Records per page' }),
    ),
    start_cursor: Type.Optional(
      Type.String({ maxLength: 2048, description: 'The next_cursor of the previous page; absent or empty for the first page' }),
    ),
  },
  {
    patternProperties: {
      '^(filter|sort)(\\[.*)?$': Type.String({ maxLength: 2048, description: 'filter[<field>][<op>]=<value> or sort[<field>]=asc|desc' }),
    },
  },
)

export type SortType = 'integer' | 'string' | 'datetime'

export interface ListSpec {
  /** The unique, NOT NULL id column (`faults.id`): the tiebreak of every order, and the `id` sort. */
  idColumn: string
  /** Sortable fields besides `id`. Each column must be NOT NULL: a keyset cannot step over NULLs. */
  sorts?: Readonly<Record<string, { type: SortType; column?: string }>>
  filters?: FilterSpec
  /** When the request has no sort; the contract's default is id desc. */
  defaultSort?: { field: string; direction: SortDirection }
}

export interface ListSort {
  field: string
  direction: SortDirection
  column: string
  type: SortType
}

/** A list request, checked: what paginate() needs to build the page and its next cursor. */
export interface ListRequest {
  perPage: number
  sort: ListSort
  idColumn: string
  filters: AppliedFilter[]
  /** Where start_cursor says the previous page stopped; null on the first page. */
  after: KeysetPosition | null
  startCursor: string | null
  fingerprint: string
  secret: CursorSecret
}

export interface ListOptions {
  secret: CursorSecret
  /** Also binds cursors to this (e.g. the account id), beyond the route, sort and filters. */
  scope?: string | number
}

function resolveSort(spec: ListSpec, field: string, direction: SortDirection): ListSort | undefined {
  if (field === 'id') return { field, direction, column: spec.idColumn, type: 'integer' }
  const sort = spec.sorts && Object.hasOwn(spec.sorts, field) ? spec.sorts[field] : undefined
  return sort && { field, direction, column: sort.column ?? field, type: sort.type }
}

function parseSort(query: Readonly<Record<string, unknown>>, spec: ListSpec): ListSort {
  const given = Object.entries(query).filter(([key]) => key === 'sort' || key.startsWith('sort['))
  const fallback = spec.defaultSort ?? { field: 'id', direction: 'desc' }
  const [first, second] = given
  if (!first) {
    const sort = resolveSort(spec, fallback.field, fallback.direction)
    if (!sort) throw new Error(`defaultSort names ${fallback.field}, which is not among the sorts of this list`)
    return sort
  }
  if (second) throw invalidParameter(second[0], 'Sort by one field at a time (ties are always broken by id).')
  const [parameter, direction] = first
  const field = /^sort\[([^[\]]+)\]$/.exec(parameter)?.[1]
  const sortable = ['id', ...Object.keys(spec.sorts ?? {})].join(', ')
  if (!field) throw invalidParameter(parameter, `${parameter} is not of the form sort[<field>]. Sortable fields: ${sortable}.`)
  if (direction !== 'asc' && direction !== 'desc') throw invalidParameter(parameter, `${parameter} must be asc or desc.`)
  const sort = resolveSort(spec, field, direction)
  if (!sort) throw invalidParameter(parameter, `${field} is not sortable. Sortable fields: ${sortable}.`)
  return sort
}

function parsePerPage(raw: unknown): number {
  if (raw === undefined) return DEFAULT_PER_PAGE
  // Normally ajv has coerced it already; a route without ListQuerystring still gets the same rule.
  const value = typeof raw === 'string' && raw !== '' ? Number(raw) : raw
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_PER_PAGE) return value
  throw invalidParameter('per_page', `per_page must be an integer from 1 to ${MAX_PER_PAGE}.`)
}

const fitsType = (value: string | number, type: SortType) =>
  type === 'integer' ? Number.isSafeInteger(value) : type === 'string' || !Number.isNaN(Date.parse(String(value)))

function parseCursor(raw: unknown, sort: ListSort, fingerprint: string, secret: CursorSecret): KeysetPosition | null {
  if (raw === undefined || raw === '') return null
  const payload = typeof raw === 'string' ? decodeCursor(raw, secret) : null
  const foreign = () =>
    invalidParameter('start_cursor', 'start_cursor is not a cursor of this list; pass next_cursor exactly as it was returned.')
  if (!payload) throw foreign()
  if (payload.sort.field !== sort.field || payload.sort.direction !== sort.direction) {
    throw invalidParameter(
      'start_cursor',
      `start_cursor belongs to sort[${payload.sort.field}]=${payload.sort.direction}; keep that sort, or start again without start_cursor.`,
    )
  }
  if (payload.fingerprint !== fingerprint) {
    throw invalidParameter('start_cursor', 'start_cursor belongs to other filters; keep the filters, or start again without start_cursor.')
  }
  // Authentic and for this very list, yet checked: a release may have changed the field's type since.
  if (!fitsType(payload.after.value, sort.type)) throw foreign()
  return payload.after
}

/** Reads per_page, sort, filters and start_cursor; every mistake is a 400 naming its parameter. */
export function parseListQuery(request: FastifyRequest, spec: ListSpec, options: ListOptions): ListRequest {
  const query = (request.query ?? {}) as Readonly<Record<string, unknown>>
  const perPage = parsePerPage(query.per_page)
  const sort = parseSort(query, spec)
  const filters = parseFilters(query, spec.filters ?? {})
  // The route pattern keeps a cursor of /faults from being replayed on /vehicles, whose keys mean other rows.
  const fingerprint = fingerprintOf([
    request.routeOptions.url ?? '',
    options.scope ?? null,
    filters.map(({ field, op, value }) => [field, op, value]),
  ])
  const startCursor = typeof query.start_cursor === 'string' && query.start_cursor !== '' ? query.start_cursor : null
  const after = parseCursor(query.start_cursor, sort, fingerprint, options.secret)
  return { perPage, sort, idColumn: spec.idColumn, filters, after, startCursor, fingerprint, secret: options.secret }
}
