// filter[field][op]=value: declared per resource, parsed from the query, applied to a Kysely query, echoed in filtered_by.
import { type Expression, type SelectQueryBuilder, type SqlBool, sql } from 'kysely'
import { Problem, problemTypes } from './problem.js'

export const filterOps = ['eq', 'like', 'include', 'lt', 'lte', 'gt', 'gte'] as const
export type FilterOp = (typeof filterOps)[number]

export type FilterScalar = string | number | boolean
/** A parsed value: a list for `include`, else one value of the field's type (datetimes as ISO-8601 UTC). */
export type FilterValue = FilterScalar | FilterScalar[]

interface FieldOptions {
  ops: readonly FilterOp[]
  /** The column compared; qualify it when the list joins (`faults.status`). Defaults to the field name. */
  column?: string
  /** For a filter that is not a column comparison (vehicles' `archived`): builds the where-clause itself. */
  where?: (op: FilterOp, value: FilterValue) => Expression<SqlBool>
  /** Applied when the request has no filter on this field, and echoed in filtered_by like a sent one. */
  default?: { op: FilterOp; value: string }
}

/** One filterable field. `like` is meant for string columns; lt/lte/gt/gte for integers and datetimes. */
export type FilterField =
  | (FieldOptions & { type: 'integer' | 'string' | 'datetime' | 'boolean' })
  | (FieldOptions & { type: 'enum'; values: readonly string[] })

export type FilterSpec = Readonly<Record<string, FilterField>>

export interface AppliedFilter {
  field: string
  op: FilterOp
  value: FilterValue
  spec: FilterField
}

/** Bounds the SQL an `include` list can produce. */
const MAX_INCLUDE_VALUES = 100
const FILTER_KEY = /^filter\[([^[\]]+)\]\[([^[\]]+)\]$/
/** RFC 3339 date-time (any offset), or a plain date meaning midnight UTC. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/

export function invalidParameter(parameter: string, detail: string): Problem {
  return new Problem(problemTypes.invalidParameter, detail, { extensions: { parameter } })
}

/** ISO-8601 UTC with milliseconds: the text SQLite stores, and a literal PostgreSQL reads as timestamptz. */
function parseDateTime(raw: string): string | undefined {
  const match = DATE_TIME.exec(raw)
  if (!match) return undefined
  const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number]
  // Date rolls 2026-02-30 over to March; a calendar day that does not exist is an error instead.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined
  const date = new Date(raw.length === 10 ? `${raw}T00:00:00Z` : raw.replace(' ', 'T'))
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

function parseScalar(field: FilterField, raw: string): FilterScalar | undefined {
  switch (field.type) {
    case 'integer':
      return /^-?\d{1,16}$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined
    case 'datetime':
      return parseDateTime(raw)
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined
    case 'enum':
      return field.values.includes(raw) ? raw : undefined
    case 'string':
      // U+0000 cannot be stored or compared by PostgreSQL text: a bad value, not a server error.
      return raw.includes('\u0000') ? undefined : raw
  }
}

const expected: Record<FilterField['type'], string> = {
  integer: 'an integer',
  datetime: 'an ISO-8601 date-time such as 2026-11-22T02:23:18Z',
  boolean: 'true or false',
  enum: 'one of the values listed',
  string: 'a string',
}

function parseValue(parameter: string, field: FilterField, op: FilterOp, raw: string): FilterValue {
  const what = field.type === 'enum' ? `one of ${field.values.join(', ')}` : expected[field.type]
  if (op === 'like') return raw
  if (op !== 'include') {
    const value = parseScalar(field, raw)
    if (value === undefined) throw invalidParameter(parameter, `${parameter} must be ${what}.`)
    return value
  }
  const items = raw.split(',').map((item) => item.trim())
  if (items.some((item) => item === '') || items.length > MAX_INCLUDE_VALUES) {
    throw invalidParameter(parameter, `${parameter} must be a comma-separated list of 1 to ${MAX_INCLUDE_VALUES} values.`)
  }
  return items.map((item) => {
    const value = parseScalar(field, item)
    if (value === undefined) throw invalidParameter(parameter, `${parameter}: every value must be ${what}.`)
    return value
  })
}

function describe(spec: FilterSpec): string {
  const fields = Object.entries(spec).map(([name, field]) => `${name} (${field.ops.join(', ')})`)
  return fields.length === 0 ? 'This list takes no filters.' : `Filters: ${fields.join('; ')}.`
}

/** The filters of a parsed querystring, checked against the resource's spec; 400 naming the first bad one. */
export function parseFilters(query: Readonly<Record<string, unknown>>, spec: FilterSpec): AppliedFilter[] {
  const applied: AppliedFilter[] = []
  for (const [parameter, raw] of Object.entries(query)) {
    if (parameter !== 'filter' && !parameter.startsWith('filter[')) continue
    const match = FILTER_KEY.exec(parameter)
    if (!match) throw invalidParameter(parameter, `${parameter} is not of the form filter[<field>][<operator>]. ${describe(spec)}`)
    const [, name = '', op = ''] = match
    const field = Object.hasOwn(spec, name) ? spec[name] : undefined
    if (!field) throw invalidParameter(parameter, `${name} is not a filter of this list. ${describe(spec)}`)
    if (!field.ops.includes(op as FilterOp)) {
      throw invalidParameter(parameter, `${name} cannot be filtered with ${op}; it takes ${field.ops.join(', ')}.`)
    }
    if (typeof raw !== 'string') throw invalidParameter(parameter, `${parameter} must be given once, as a string.`)
    applied.push({ field: name, op: op as FilterOp, value: parseValue(parameter, field, op as FilterOp, raw), spec: field })
  }
  for (const [name, field] of Object.entries(spec)) {
    if (!field.default || applied.some((filter) => filter.field === name)) continue
    const { op, value } = field.default
    applied.push({ field: name, op, value: parseValue(`filter[${name}][${op}]`, field, op, value), spec: field })
  }
  // One canonical order: filtered_by reads the same and the cursor fingerprint is stable however the query is written.
  return applied.sort((a, b) => (a.field === b.field ? a.op.localeCompare(b.op) : a.field.localeCompare(b.field)))
}

const comparators = { eq: '=', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const

/** `like` is a case-insensitive substring match on both engines; the client's % and _ match themselves. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`

/**
 * The values filter `index` binds, by name: a statement compiled once per shape of list (see paginate)
 * takes them as its arguments. Booleans are not bound: they are written into the SQL as TRUE/FALSE
 * (better-sqlite3 cannot bind a boolean), so they belong to the shape (filterShape), as does the value of a
 * filter that builds its own where-clause.
 */
function bindings({ op, value, spec }: AppliedFilter, index: number): [string, FilterScalar][] {
  if (spec.where) return []
  if (op === 'like') return [[`filter_${index}`, likePattern(String(value))]]
  const items = op === 'include' ? (value as FilterScalar[]) : [value as FilterScalar]
  const named = items.map((item, at) => [op === 'include' ? `filter_${index}_${at}` : `filter_${index}`, item] as [string, FilterScalar])
  return named.filter(([, item]) => typeof item !== 'boolean')
}

/** The arguments of every filter (bindings), for a statement compiled once. */
export function filterArgs(filters: readonly AppliedFilter[]): Record<string, FilterScalar> {
  return Object.fromEntries(filters.flatMap(bindings))
}

/** What a filter adds to a list's shape: the statement differs by field, operator, list length and the unbound values. */
export function filterShape({ field, op, value, spec }: AppliedFilter): string {
  if (spec.where) return `${field}.${op}=${JSON.stringify(value)}`
  const items = Array.isArray(value) ? value : [value]
  const inline = items.map((item) => (typeof item === 'boolean' ? String(item) : '?'))
  return `${field}.${op}=${inline.join(',')}`
}

/** A bound value: the argument named (a value, or its stand-in while a statement is compiled once). */
export type FilterArg = (name: string) => unknown

function condition(filter: AppliedFilter, index: number, arg: FilterArg): Expression<SqlBool> {
  const { field, op, value, spec } = filter
  if (spec.where) return spec.where(op, value)
  const column = sql.ref(spec.column ?? field)
  const bind = (item: FilterScalar, name: string) => (typeof item === 'boolean' ? sql.lit(item) : sql.val(arg(name)))
  if (op === 'like') return sql<SqlBool>`lower(${column}) like lower(${sql.val(arg(`filter_${index}`))}) escape '\\'`
  if (op === 'include') {
    const items = (value as FilterScalar[]).map((item, at) => bind(item, `filter_${index}_${at}`))
    return sql<SqlBool>`${column} in (${sql.join(items)})`
  }
  return sql<SqlBool>`${column} ${sql.raw(comparators[op])} ${bind(value as FilterScalar, `filter_${index}`)}`
}

/** ANDs every filter into the query, its values taken by name from `arg` (by default, the filters' own). */
export function applyFilters<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  filters: readonly AppliedFilter[],
  arg: FilterArg = argsOf(filterArgs(filters)),
): SelectQueryBuilder<DB, TB, O> {
  return filters.reduce((built, filter, index) => built.where(condition(filter, index, arg)), query)
}

const argsOf =
  (args: Readonly<Record<string, unknown>>): FilterArg =>
  (name) =>
    args[name]

/** The envelope's `filtered_by`: one `{field: {op: value}}` per applied filter. */
export function filteredBy(filters: readonly AppliedFilter[]): Record<string, Record<string, FilterValue>>[] {
  return filters.map(({ field, op, value }) => ({ [field]: { [op]: value } }))
}
