// The steps every resource route shares: answering a list page, and loading the row a change applies to.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SelectQueryBuilder } from 'kysely'
import type { Database, Engine } from '../db/database.js'
import { forUpdate } from '../db/locking.js'
import type { Arg, Template } from '../db/prepared.js'
import { assertPreconditions } from './conditional.js'
import type { CursorSecret } from './cursor.js'
import type { Links } from './hal.js'
import { type ListSpec, parseListQuery } from './list-query.js'
import { type ListStatement, paginate } from './pagination.js'
import { NotFound } from './problem.js'
import { sendList } from './representation.js'

export interface ListRoute<O, T extends object> {
  spec: ListSpec
  secret: CursorSecret
  toResource(row: O): T
  linksOf(resource: T): Links
  /**
   * Whose rows the query selects, bound into every cursor so it cannot be replayed for another caller;
   * the caller's account by default (lists whose rows depend on more, such as API keys, say so here).
   */
  scope?(request: FastifyRequest): string | number
}

/** GET list: the query (tenant-scoped by the caller; or its ListStatement) filtered, paged by cursor, answered as JSON or HAL. */
export async function answerList<DB, TB extends keyof DB, O, T extends object, A extends Record<string, unknown> = Record<string, never>>(
  request: FastifyRequest,
  reply: FastifyReply,
  database: Pick<Database, 'engine' | 'readValues'>,
  query: SelectQueryBuilder<DB, TB, O> | ListStatement<DB, TB, O, A>,
  route: ListRoute<O, T>,
): Promise<FastifyReply> {
  const list = parseListQuery(request, route.spec, { secret: route.secret, scope: route.scope?.(request) ?? request.accountId })
  const page = await paginate(database, query, list)
  return sendList(request, reply, { ...page, records: page.records.map(route.toResource) }, route.linksOf)
}

/**
 * The statements of a list that depends on its caller only through the account (`build(accountId)`): its
 * page query is compiled once per shape of list request, then filled with each caller's account.
 */
export function accountList<DB, TB extends keyof DB, O>(build: (accountId: number) => SelectQueryBuilder<DB, TB, O>) {
  const statements = new Map<string, Template<unknown>>()
  const fromArgs = (arg: Arg<{ accountId: number }>) => build(arg('accountId'))
  return (accountId: number): ListStatement<DB, TB, O, { accountId: number }> => ({ build: fromArgs, args: { accountId }, statements })
}

/**
 * The row a PATCH or DELETE changes, inside its transaction: locked until the transaction ends (so two
 * changes with one ETag cannot both pass), 404 when absent, then 412 when If-Match no longer names it.
 * `lockOf`: the table of the changed row, when the query joins others for display.
 */
export async function loadForChange<DB, TB extends keyof DB, O>(
  request: FastifyRequest,
  query: SelectQueryBuilder<DB, TB, O>,
  engine: Engine,
  toResource: (row: O) => object,
  lockOf?: TB & string,
): Promise<O> {
  const row = (await forUpdate(query, engine, lockOf).executeTakeFirst()) as O | undefined
  if (!row) throw new NotFound()
  assertPreconditions(request, toResource(row))
  return row
}
