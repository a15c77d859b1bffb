// Row locks for read-check-write (If-Match): FOR UPDATE on PostgreSQL; SQLite runs one writer at a time.
import type { Engine } from './database.js'

/** The query with FOR UPDATE where the engine has it. */
export function forUpdate<Q extends { forUpdate(): Q }>(query: Q, engine: Engine): Q {
  return engine === 'postgres' ? query.forUpdate() : query
}
