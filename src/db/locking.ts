// Row locks for read-check-write (If-Match): FOR UPDATE on PostgreSQL; SQLite runs one writer at a time.
import type { Engine } from './database.js'

/**
 * The query with FOR UPDATE where the engine has it; `of` names the table whose rows are locked when the
 * query joins others (PostgreSQL refuses to lock the nullable side of an outer join).
 */
export function forUpdate<Q extends { forUpdate(of?: T): Q }, T>(query: Q, engine: Engine, of?: T): Q {
  return engine === 'postgres' ? query.forUpdate(of) : query
}
