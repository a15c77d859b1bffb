// Group commit for SQLite: the writes submitted in one turn of the event loop share one transaction, each
// in a savepoint of its own. A commit writes every page it dirtied to the WAL; concurrent creates append
// to the same index pages, so one commit for many of them writes a fraction of the pages of one each.
import type SQLite from 'better-sqlite3'
import type { CompiledQuery, Kysely } from 'kysely'

/** Runs one compiled query at once, in the shared transaction; the rows it returns (none for a plain write). */
export type RunSync = <R>(query: CompiledQuery<R>) => R[]

/**
 * Runs `work` synchronously in a transaction shared with the other writes of this turn. It resolves once
 * that transaction has committed; if `work` throws, its savepoint is rolled back (the others still commit)
 * and the promise rejects with what it threw.
 */
export type GroupWrite = <T>(work: (run: RunSync) => T) => Promise<T>

interface Pending {
  work: (run: RunSync) => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

export function groupCommit(db: Kysely<unknown>, prepare: (sql: string) => SQLite.Statement): GroupWrite {
  const run: RunSync = <R>(query: CompiledQuery<R>) => {
    const statement = prepare(query.sql)
    const parameters = query.parameters as unknown[]
    if (statement.reader) return statement.all(parameters) as R[]
    statement.run(parameters)
    return []
  }
  const exec = (sql: string) => prepare(sql).run()
  let queue: Pending[] = []
  let scheduled = false

  /** Runs a batch on the connection (taken from Kysely, so no transaction of its own is open meanwhile). */
  const commitBatch = (batch: Pending[]) => {
    const outcomes: { ok: boolean; value: unknown }[] = []
    exec('begin')
    try {
      for (const item of batch) {
        exec('savepoint group_write')
        try {
          outcomes.push({ ok: true, value: item.work(run) })
          exec('release group_write')
        } catch (error) {
          exec('rollback to group_write')
          exec('release group_write')
          outcomes.push({ ok: false, value: error })
        }
      }
      exec('commit')
    } catch (error) {
      // The commit (or a savepoint statement) failed: nothing of the batch was written.
      exec('rollback')
      return batch.map(() => ({ ok: false, value: error }))
    }
    return outcomes
  }

  const flush = async () => {
    let batch: Pending[] = []
    try {
      await db.connection().execute(async () => {
        batch = queue
        queue = []
        scheduled = false
        const outcomes = commitBatch(batch)
        batch.forEach((item, index) => {
          const outcome = outcomes[index]
          if (outcome?.ok) item.resolve(outcome.value)
          else item.reject(outcome?.value)
        })
      })
    } catch (error) {
      // The connection could not be had (the database is closing): fail whatever was waiting.
      for (const item of [...batch, ...queue]) item.reject(error)
      queue = []
      scheduled = false
    }
  }

  return <T>(work: (run: RunSync) => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    })
}
