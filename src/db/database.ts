// createDatabase(config): one Kysely over SQLite (embedded default) or PostgreSQL (production).
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import postgres from 'postgres'
import type { Config } from '../config.js'
import { type GroupWrite, groupCommit } from './group-commit.js'
import type { DB } from './schema.js'
import { timestamptzFromText } from './timestamps.js'
import type { ReadValues } from './values.js'

export type Engine = 'sqlite' | 'postgres'

export interface Database {
  db: Kysely<DB>
  engine: Engine
  /** Resolves when the database answers a trivial query within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>
  /** Notices between the processes sharing this database (PostgreSQL LISTEN/NOTIFY). */
  notices: Notices
  /**
   * SQLite: writes sharing one transaction per turn of the event loop (group commit), for the hot creates.
   * Undefined on PostgreSQL, which groups commits itself.
   */
  groupWrite?: GroupWrite
  /**
   * Runs a select outside Kysely's row mapping: its rows as arrays of values (see values.ts), on the same
   * connection discipline (SQLite: the one connection, never inside another request's open transaction).
   */
  readValues: ReadValues
  close(): Promise<void>
}

/** PostgreSQL pool size: enough to keep two cores busy without queuing inside the server. */
const POSTGRES_POOL_SIZE = 10
/** How long a SQLite writer waits for the lock before failing: covers a second process's commit. */
const SQLITE_BUSY_TIMEOUT_MS = 5000

export interface Notices {
  /**
   * Calls `onNotice` for each notice on `channel`, and also whenever listening (re)starts, since notices
   * sent while the connection was down are lost.
   */
  listen(channel: string, onNotice: () => void): Promise<void>
  notify(channel: string): Promise<void>
}

/** SQLite serves one process (the embedded default): there is no one else to tell. */
const noNotices: Notices = {
  async listen() {},
  async notify() {},
}

export function createDatabase(config: Pick<Config, 'DATABASE_URL' | 'SQLITE_SYNCHRONOUS'>): Database {
  const url = config.DATABASE_URL
  const database = url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length), config) : openPostgres(url)
  // Closing twice (a test, then the app's onClose) must not wait on a pool that is already gone.
  let closed: Promise<void> | undefined
  const close = database.close
  database.close = () => {
    closed ??= close()
    return closed
  }
  return database
}

/** Distinct SQL texts kept prepared; the product issues a few dozen, so this never evicts in practice. */
const STATEMENT_CACHE_SIZE = 500

/**
 * Kysely's SQLite driver prepares every query anew (a quarter of the CPU of a point read). Statements
 * are reusable, and this driver runs one query at a time, so each SQL text is prepared once.
 */
function withStatementCache(sqlite: SQLite.Database) {
  const statements = new Map<string, SQLite.Statement>()
  const rawStatements = new Map<string, { statement: SQLite.Statement; columns: string[] }>()
  const cached = <T>(cache: Map<string, T>, text: string, make: () => T): T => {
    let entry = cache.get(text)
    if (!entry) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string)
      entry = make()
      cache.set(text, entry)
    }
    return entry
  }
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => cached(statements, text, () => sqlite.prepare(text)),
    /** The same, for a select run in raw mode (rows as arrays), with its column names. */
    prepareRaw: (text: string) =>
      cached(rawStatements, text, () => {
        const statement = sqlite.prepare(text).raw(true)
        return { statement, columns: statement.columns().map((column) => column.name) }
      }),
  }
}

function openSqlite(path: string, config: Pick<Config, 'SQLITE_SYNCHRONOUS'>): Database {
  const memory = path === ':memory:'
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true })
  const sqlite = new SQLite(memory ? ':memory:' : path)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma(`synchronous = ${config.SQLITE_SYNCHRONOUS}`)
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`)
  // Savepoints (a group commit gives each write one) copy every page they first change to a subjournal;
  // as a temp file, that is a pwrite per page, which made up a third of a create's database time. In
  // memory it costs a copy. Sorts and temporary tables also stay in memory: every list has a LIMIT, so
  // sorts are top-N and bounded.
  sqlite.pragma('temp_store = MEMORY')
  const statements = withStatementCache(sqlite)
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: statements }) })
  return {
    db,
    engine: 'sqlite',
    notices: noNotices,
    groupWrite: groupCommit(db as Kysely<unknown>, statements.prepare),
    readValues: (query) =>
      // Through Kysely's connection, which waits while a transaction holds it.
      db.connection().execute(async () => {
        const { statement, columns } = statements.prepareRaw(query.sql)
        return { columns, rows: statement.all(query.parameters as unknown[]) as unknown[][] }
      }),
    async ping() {
      try {
        sqlite.prepare('select 1').get()
        return true
      } catch {
        return false
      }
    },
    close: () => db.destroy(),
  }
}

/**
 * Statements with more parameters than this (multi-row inserts of a bulk batch) run unnamed: each is used
 * rarely, and a named one would be kept by the connection for its lifetime.
 */
const MAX_PREPARED_PARAMETERS = 200

/**
 * kysely-postgres-js runs every query through `unsafe()`, which postgres.js sends unnamed: for a query
 * with parameters that is Parse + Describe, a wait for the answer, then Bind + Execute, every time (two
 * round trips, parsed and planned each time). Named statements are described once per connection and then
 * cost one round trip (Bind + Execute) without parsing.
 */
function preparedStatements(client: postgres.Sql) {
  return {
    async reserve() {
      const connection = await client.reserve()
      return {
        unsafe: (text: string, parameters: postgres.ParameterOrJSON<never>[]) =>
          connection.unsafe(text, parameters, { prepare: parameters.length <= MAX_PREPARED_PARAMETERS }),
        release: () => connection.release(),
      }
    },
    end: () => client.end(),
  }
}

function openPostgres(url: string): Database {
  const client = postgres(url, {
    max: POSTGRES_POOL_SIZE,
    onnotice: () => {},
    // Sessions in UTC, so timestamptz arrives as UTC text, which the parser below turns into ISO-8601.
    connection: { TimeZone: 'UTC' },
    types: {
      // int8 (ids, counts) as JS numbers: ids stay far below 2^53.
      bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) },
      // timestamptz as the ISO-8601 text SQLite stores (no Date per value); written as the driver writes a Date.
      timestamptz: {
        to: 1184,
        from: [1184],
        serialize: (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString(),
        parse: timestamptzFromText,
      },
    },
  })
  const statements = preparedStatements(client)
  // The dialect accepts a factory of anything with reserve() and end(); the cast is to that shape.
  const sqlFactory = async () => statements as unknown as postgres.Sql
  const db = new Kysely<DB>({ dialect: new PostgresJSDialect({ postgres: sqlFactory }) })
  return {
    db,
    engine: 'postgres',
    /**
     * Through the statements Kysely runs on (a connection reserved first, named statements), rather than
     * handed to the pool, which creates the query at once and, while every connection is busy, queues it
     * or pipelines it behind others. Measured on a 50-row fault page under 50 connections: through the pool, ~34 KB of each page's
     * rows outlived two young-generation collections (promoted, then freed only by full GCs: 90-115 µs of
     * GC a request); reserved first, 3.5-4.7 KB and 41-44 µs, and 12-17% more pages a second.
     */
    async readValues(query) {
      const connection = await statements.reserve()
      try {
        const rows = await connection.unsafe(query.sql, query.parameters as postgres.ParameterOrJSON<never>[]).values()
        return { columns: rows.columns.map((column) => column.name), rows: rows as unknown as unknown[][] }
      } finally {
        connection.release()
      }
    },
    notices: {
      async listen(channel, onNotice) {
        await client.listen(channel, onNotice, onNotice)
      },
      async notify(channel) {
        await client.notify(channel, '')
      },
    },
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<false>((done) => {
        timer = setTimeout(() => done(false), timeoutMs)
      })
      const query = sql`select 1`.execute(db).then(
        () => true,
        () => false,
      )
      try {
        return await Promise.race([query, timeout])
      } finally {
        clearTimeout(timer)
      }
    },
    close: () => db.destroy(),
  }
}
