// Keyset pagination (CONTRACT §6): one page of any Kysely select, its next cursor, and the Fleetio list envelope.
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  AliasNode,
  ColumnNode,
  type CompiledQuery,
  IdentifierNode,
  type OperationNode,
  ReferenceNode,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from 'kysely'
import { type TSchema, Type } from 'typebox'
import type { Database } from '../db/database.js'
import { type Arg, fill, slotArg, type Template, templateOf } from '../db/prepared.js'
import { recordBuilder } from '../db/values.js'
import { encodeCursor, type KeysetPosition, type SortDirection } from './cursor.js'
import { applyFilters, type FilterArg, type FilterValue, filterArgs, filteredBy, filterShape } from './filters.js'
import { type ListRequest, type ListSort, MAX_PER_PAGE } from './list-query.js'

/** Fleetio: the count includes the returned records "up to a maximum of 500"; past that, counting costs too much. */
export const REMAINING_COUNT_CAP = 500

/** The body of every list (before HAL): Fleetio's cursor envelope. */
export interface ListPage<T> {
  start_cursor: string | null
  next_cursor: string | null
  per_page: number
  estimated_remaining_count: number
  filtered_by: Record<string, Record<string, FilterValue>>[]
  sorted_by: Record<string, SortDirection>[]
  records: T[]
}

const Scalar = Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()])
const Cursor = Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])

/** The envelope's fields other than records (HAL lists reuse them beside _embedded). */
export const envelopeFields = {
  start_cursor: { ...Cursor, description: 'The cursor this page started at; null on the first page' },
  next_cursor: { ...Cursor, description: 'Pass as start_cursor for the next page; null on the last page' },
  per_page: Type.Integer({ minimum: 1, maximum: MAX_PER_PAGE, format: 'int32' }),
  estimated_remaining_count: Type.Integer({
    minimum: 0,
    format: 'int32',
    maximum: REMAINING_COUNT_CAP,
    description: `Records from this page onwards, this page included, counted up to ${REMAINING_COUNT_CAP}`,
  }),
  filtered_by: Type.Array(
    Type.Record(Type.String(), Type.Record(Type.String(), Type.Union([Scalar, Type.Array(Scalar, { maxItems: 100 })]))),
    {
      maxItems: 20,
      description: 'The filters applied, one {field: {operator: value}} each',
    },
  ),
  sorted_by: Type.Array(Type.Record(Type.String(), Type.Union([Type.Literal('asc'), Type.Literal('desc')])), {
    maxItems: 1,
    description: 'The order, one {field: direction}; ties are broken by id in the same direction',
  }),
}

export function ListEnvelope<T extends TSchema>(record: T) {
  return Type.Object({ ...envelopeFields, records: Type.Array(record, { maxItems: MAX_PER_PAGE }) })
}

const SORT_KEY = '__cursor_sort'
const ROW_ID = '__cursor_id'
const REMAINING = '__remaining'

/**
 * Rows strictly after the cursor in (sort column, id) order: a row value comparison, which both engines
 * index. The position is bound as the arguments `after_value` and `after_id` (cursorArgs).
 */
function after({ sort, idColumn }: ListRequest, postgres: boolean, arg: FilterArg) {
  const op = sql.raw(sort.direction === 'asc' ? '>' : '<')
  const id = sql.val(arg('after_id'))
  if (sort.column === idColumn) return sql<SqlBool>`${sql.ref(idColumn)} ${op} ${id}`
  // postgres.js sends a timestamptz parameter through a JS Date, dropping microseconds: bind text, cast in SQL.
  const value = sql.val(arg('after_value'))
  const bound = postgres && sort.type === 'datetime' ? sql`cast(cast(${value} as text) as timestamptz)` : value
  return sql<SqlBool>`(${sql.ref(sort.column)}, ${sql.ref(idColumn)}) ${op} (${bound}, ${id})`
}

const cursorArgs = (position: KeysetPosition | null) => (position ? { after_value: position.value, after_id: position.id } : {})

/**
 * The sort key as the cursor stores it. PostgreSQL timestamptz has microseconds and a JS Date keeps
 * milliseconds, so a cursor built from the Date would skip or repeat rows within one millisecond:
 * the exact value is read as ISO text instead. SQLite stores the ISO text itself.
 */
function sortKey(sort: ListSort, postgres: boolean) {
  const column = sql.ref(sort.column)
  if (postgres && sort.type === 'datetime') {
    return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
  }
  return sql<string | number>`${column}`
}

/**
 * At most REMAINING_COUNT_CAP rows from the cursor on, as a scalar subquery of the page's own query (one
 * round trip). It keeps the page's order so the planner walks the same index the page used, from the
 * cursor, instead of scanning the table (PostgreSQL chose a sequential scan for a (created_at, id)
 * cursor without it: 166x slower deep in). Its select list is cleared: columns joined in for display
 * cost nothing here.
 */
function remainingCount<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, list: ListRequest) {
  const { sort, idColumn } = list
  let ordered = query.clearSelect().select(sql.ref(idColumn).as(ROW_ID)).orderBy(sql.ref(sort.column), sort.direction)
  if (sort.column !== idColumn) ordered = ordered.orderBy(sql.ref(idColumn), sort.direction)
  return sql<number | string>`(select count(*) from (${ordered.limit(sql.lit(REMAINING_COUNT_CAP))}) as remaining_rows)`
}

/**
 * A list's query built from named arguments, compiled once per shape of list request (its filters' fields,
 * operators and list lengths, its sort, whether it has a cursor, per_page) and then only filled: building
 * and compiling a Kysely query cost a tenth of a page's CPU. For a query that depends on its caller only
 * through `args`; the statements live in `statements`, one cache per list.
 */
export interface ListStatement<DB, TB extends keyof DB, O, A extends Record<string, unknown>> {
  build(arg: Arg<A>): SelectQueryBuilder<DB, TB, O>
  args: A
  statements: Map<string, Template<unknown>>
}

/** Shapes of list request remembered per list; past this the cache starts again (each costs one compile). */
const STATEMENTS_PER_LIST = 500

function isStatement<DB, TB extends keyof DB, O, A extends Record<string, unknown>>(
  source: SelectQueryBuilder<DB, TB, O> | ListStatement<DB, TB, O, A>,
): source is ListStatement<DB, TB, O, A> {
  return 'statements' in source
}

/** The name a selected column has in the result; undefined for `*` or an expression without an alias. */
function outputName(selection: OperationNode): string | undefined {
  if (AliasNode.is(selection)) return IdentifierNode.is(selection.alias) ? selection.alias.name : undefined
  const column = ReferenceNode.is(selection) ? selection.column : selection
  return ColumnNode.is(column) ? column.column.name : undefined
}

/** An id column (`faults.id` or `id`) as its table, if it names one, and its column. */
function splitColumn(idColumn: string): [string | undefined, string] {
  const dot = idColumn.lastIndexOf('.')
  return dot === -1 ? [undefined, idColumn] : [idColumn.slice(0, dot), idColumn.slice(dot + 1)]
}

/**
 * Whether `query` already selects the id column as it is (faults select `faults.id`, named `id`) under a
 * name no other column has: the page then reads the id there (by that name) instead of selecting it a
 * second time. False when it does not, or when a `*` or an unnamed expression leaves the names unknown.
 */
function selectsOwnId<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, idColumn: string): boolean {
  const [table, column] = splitColumn(idColumn)
  let found = false
  for (const { selection } of query.toOperationNode().selections ?? []) {
    const name = outputName(selection)
    if (name === undefined) return false
    if (name !== column) continue
    if (found || !ReferenceNode.is(selection) || selection.table?.table.identifier.name !== table) return false
    found = true
  }
  return found
}

/** The page's select: `query` filtered, after the cursor, with the bookkeeping columns last, in order, limited. */
function pageQuery<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, list: ListRequest, postgres: boolean, arg: FilterArg) {
  const { sort, idColumn, perPage } = list
  const filtered = applyFilters(query, list.filters, arg)
  const base = (list.after ? filtered.where(after(list, postgres, arg)) : filtered).clearOrderBy().clearLimit()
  // Sorted by id, the id is the sort key; the id is read where the query has it already. Each saves a column in every row.
  const bookkeeping = [
    ...(sort.column === idColumn ? [] : [sortKey(sort, postgres).as(SORT_KEY)]),
    ...(selectsOwnId(base, idColumn) ? [] : [sql.ref(idColumn).as(ROW_ID)]),
    remainingCount(base, list).as(REMAINING),
  ]
  let ordered = base.select(bookkeeping).orderBy(sql.ref(sort.column), sort.direction)
  if (sort.column !== idColumn) ordered = ordered.orderBy(sql.ref(idColumn), sort.direction)
  // Limits are literals: SQLite re-prepares a statement whose LIMIT is a parameter at every new binding.
  return ordered.limit(sql.lit(perPage + 1))
}

/** The page's statement with this request's values: compiled now, or once for its shape (ListStatement). */
function pageStatement<DB, TB extends keyof DB, O, A extends Record<string, unknown>>(
  source: SelectQueryBuilder<DB, TB, O> | ListStatement<DB, TB, O, A>,
  list: ListRequest,
  postgres: boolean,
): CompiledQuery {
  const args = { ...filterArgs(list.filters), ...cursorArgs(list.after) }
  if (!isStatement(source)) return pageQuery(source, list, postgres, (name) => args[name as keyof typeof args]).compile()
  const shape = [list.sort.field, list.sort.direction, list.after ? 'after' : 'first', list.perPage, ...list.filters.map(filterShape)].join(
    '|',
  )
  let template = source.statements.get(shape)
  if (!template) {
    template = templateOf(pageQuery(source.build(slotArg as Arg<A>), list, postgres, slotArg).compile())
    if (source.statements.size >= STATEMENTS_PER_LIST) source.statements.clear()
    source.statements.set(shape, template)
  }
  return fill(template, { ...source.args, ...args })
}

/**
 * Runs `source` (tenant-scoped by the caller; its order and limit are replaced), filtered, for one page:
 * per_page + 1 rows in (sort, id) order after the cursor, the extra row only telling that a next page exists.
 * The rows are read as values (values.ts); the bookkeeping columns (the sort key unless the sort is by id, the
 * id unless the query selects it already, the remaining count), selected last, never enter a record.
 */
export async function paginate<DB, TB extends keyof DB, O, A extends Record<string, unknown> = Record<string, never>>(
  database: Pick<Database, 'engine' | 'readValues'>,
  source: SelectQueryBuilder<DB, TB, O> | ListStatement<DB, TB, O, A>,
  list: ListRequest,
): Promise<ListPage<O>> {
  const { sort, perPage } = list
  const postgres = database.engine === 'postgres'
  const { columns, rows } = await database.readValues(pageStatement(source, list, postgres))
  // The bookkeeping columns that pageQuery added, last: the sort key and the id unless the query had them.
  const remainingAt = columns.length - 1
  const sortKeyAt = columns.indexOf(SORT_KEY)
  const rowIdAt = columns.indexOf(ROW_ID)
  const idAt = rowIdAt === -1 ? columns.indexOf(splitColumn(list.idColumn)[1]) : rowIdAt
  if (idAt === -1) throw new Error(`the page of ${list.idColumn} has no id column: ${columns.join(', ')}`)
  const sortAt = sortKeyAt === -1 ? idAt : sortKeyAt
  const fields = sortKeyAt !== -1 ? sortKeyAt : rowIdAt !== -1 ? rowIdAt : remainingAt

  const page = rows.slice(0, perPage)
  const last = page.at(-1)
  let nextCursor: string | null = null
  if (rows.length > perPage && last) {
    const value = last[sortAt]
    if (value === null || value === undefined) throw new Error(`sort column ${sort.column} holds NULL; sortable columns must be NOT NULL`)
    const position = { value: sort.type === 'integer' ? Number(value) : String(value), id: Number(last[idAt]) }
    nextCursor = encodeCursor({ after: position, sort, fingerprint: list.fingerprint }, list.secret)
  }
  const remaining = nextCursor && last ? Number(last[remainingAt]) : page.length
  const build = recordBuilder(columns.slice(0, fields))
  return {
    start_cursor: list.startCursor,
    next_cursor: nextCursor,
    per_page: perPage,
    // A last page counts itself; otherwise a count capped by LIMIT, so it costs the same deep in a big table.
    estimated_remaining_count: remaining,
    filtered_by: filteredBy(list.filters),
    sorted_by: [{ [sort.field]: sort.direction }],
    records: page.map(build) as O[],
  }
}

const paramName = (pair: string) => {
  try {
    return decodeURIComponent(pair.split('=', 1)[0] ?? '')
  } catch {
    return pair
  }
}

/** This request's URL with start_cursor replaced; the client's other parameters stay exactly as written. */
export function pageHref(request: FastifyRequest, cursor: string | null): string {
  const mark = request.url.indexOf('?')
  const path = mark === -1 ? request.url : request.url.slice(0, mark)
  const pairs = mark === -1 ? [] : request.url.slice(mark + 1).split('&')
  const kept = pairs.filter((pair) => pair !== '' && paramName(pair) !== 'start_cursor')
  if (cursor) kept.push(`start_cursor=${encodeURIComponent(cursor)}`)
  return kept.length === 0 ? path : `${path}?${kept.join('&')}`
}

/** `Link: <…>; rel="next"` (RFC 8288) when there is a next page. */
export function setNextLink(request: FastifyRequest, reply: FastifyReply, page: ListPage<unknown>): void {
  if (page.next_cursor) reply.header('Link', `<${pageHref(request, page.next_cursor)}>; rel="next"`)
}
