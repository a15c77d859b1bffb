// The deep-page group: a million faults in one account, seeded straight into the database, and cursors that
// start ~900,000 rows in, built the way the product builds them (src/http/cursor.ts, src/http/list-query.ts).
import SQLite from 'better-sqlite3'
import postgres from 'postgres'
import { encodeCursor, fingerprintOf, type KeysetPosition } from '../../src/http/cursor.js'
import { faultPayload } from './fixtures.js'
import type { FleetContext } from './fleet.js'
import { api } from './product.js'

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`)

export const DEEP_ROWS = Number(process.env.BENCH_DEEP_ROWS ?? 1_000_000)
/** How far in the deep cursor points (rows before it in the list's order). */
export const DEEP_OFFSET = Math.floor(DEEP_ROWS * 0.9)
const SQLITE_BATCH = 5_000
const PG_BATCH = 100_000
/** Route pattern of the list, as request.routeOptions.url reports it: part of the cursor fingerprint. */
const FAULTS_ROUTE = '/api/v1/faults'

export type DeepSort = 'id-desc' | 'created-asc'

export interface DeepCursors {
  /** start_cursor of the page ~DEEP_OFFSET rows in, per sort. */
  cursor: Record<DeepSort, string>
  query: Record<DeepSort, string>
}

export const sortQuery: Record<DeepSort, string> = { 'id-desc': '', 'created-asc': '&sort[created_at]=asc' }

/** Seeds DEEP_ROWS faults of the context's account, vehicle and rule: one a second of created_at, id order = time order. */
export async function seedMillion(ctx: FleetContext): Promise<void> {
  const t0 = Date.now()
  const base = Date.now() - (DEEP_ROWS + 86_400) * 1000
  log(`seeding ${DEEP_ROWS} faults (${ctx.engine})`)
  if (ctx.engine === 'sqlite') seedSqlite(sqlitePath(ctx.databaseUrl), ctx, base)
  else await seedPg(ctx, base)
  log(`seeded ${DEEP_ROWS} faults in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

const sqlitePath = (url: string) => url.slice('sqlite:'.length)

function seedSqlite(file: string, ctx: FleetContext, base: number): void {
  const db = new SQLite(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    const insert = db.prepare(
      `insert into faults (account_id, vehicle_id, fault_rule_id, code, count, description, external_id, last_occurred_at,
         name, status, source, is_sample, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'seed', 0, ?, ?)`,
    )
    const statuses = ['open', 'resolved', 'ignored']
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const at = new Date(base + i * 1000).toISOString()
        insert.run(
          ctx.credentials.accountId,
          ctx.vehicleId,
          ctx.ruleId,
          faultPayload.code,
          1 + (i % 5),
          faultPayload.description,
          `obd-${i}`,
          at,
          faultPayload.name,
          statuses[i % 3],
          at,
          at,
        )
      }
    })
    for (let from = 0; from < DEEP_ROWS; from += SQLITE_BATCH) {
      batch(from, Math.min(DEEP_ROWS, from + SQLITE_BATCH))
      if ((from / SQLITE_BATCH) % 40 === 39) log(`  ${from + SQLITE_BATCH} rows`)
    }
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}

const pgClient = (url: string) => postgres(url, { max: 1, onnotice: () => {} })

async function seedPg(ctx: FleetContext, base: number): Promise<void> {
  const sql = pgClient(ctx.databaseUrl)
  try {
    const start = new Date(base).toISOString()
    for (let from = 0; from < DEEP_ROWS; from += PG_BATCH) {
      const to = Math.min(DEEP_ROWS, from + PG_BATCH) - 1
      await sql`
        insert into faults (account_id, vehicle_id, fault_rule_id, code, count, description, external_id, last_occurred_at,
          name, status, source, is_sample, created_at, updated_at)
        select ${ctx.credentials.accountId}, ${ctx.vehicleId}, ${ctx.ruleId}, ${faultPayload.code}, 1 + g % 5,
          ${faultPayload.description}, 'obd-' || g, ${start}::timestamptz + g * interval '1 second',
          ${faultPayload.name}, (array['open', 'resolved', 'ignored'])[1 + g % 3], 'seed', 0,
          ${start}::timestamptz + g * interval '1 second', ${start}::timestamptz + g * interval '1 second'
        from generate_series(${from}::int, ${to}::int) as g
        order by g`
      log(`  ${to + 1} rows`)
    }
    // A bulk load leaves no statistics; autovacuum would analyze soon, at a random time during the measurement.
    const t0 = Date.now()
    await sql`vacuum analyze faults`
    log(`  vacuum analyze faults: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** The sort key and id of the row `offset` rows into the account's list in `sort` order, as the product's cursor holds them. */
async function positionAt(ctx: FleetContext, sort: DeepSort, offset: number): Promise<KeysetPosition> {
  const accountId = ctx.credentials.accountId
  if (ctx.engine === 'sqlite') {
    const db = new SQLite(sqlitePath(ctx.databaseUrl), { readonly: true })
    try {
      const query =
        sort === 'id-desc'
          ? 'select id as value, id from faults where account_id = ? order by id desc limit 1 offset ?'
          : 'select created_at as value, id from faults where account_id = ? order by created_at asc, id asc limit 1 offset ?'
      const row = db.prepare(query).get(accountId, offset) as { value: string | number; id: number } | undefined
      if (!row) throw new Error(`no row at offset ${offset}`)
      return { value: row.value, id: row.id }
    } finally {
      db.close()
    }
  }
  const sql = pgClient(ctx.databaseUrl)
  try {
    // The product reads a timestamptz sort key as microsecond ISO text (src/http/pagination.ts sortKey).
    const rows =
      sort === 'id-desc'
        ? await sql`select id::int as value, id::int as id from faults where account_id = ${accountId} order by id desc limit 1 offset ${offset}`
        : await sql`select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as value, id::int as id
            from faults where account_id = ${accountId} order by created_at asc, id asc limit 1 offset ${offset}`
    const row = rows[0] as { value: string | number; id: number } | undefined
    if (!row) throw new Error(`no row at offset ${offset}`)
    return { value: row.value, id: row.id }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

async function cursorSecret(ctx: FleetContext): Promise<string> {
  if (ctx.engine === 'sqlite') {
    const db = new SQLite(sqlitePath(ctx.databaseUrl), { readonly: true })
    try {
      const row = db.prepare(`select value from server_secrets where name = 'cursor_signing_secret'`).get() as { value: string } | undefined
      if (!row) throw new Error('no cursor_signing_secret in server_secrets')
      return row.value
    } finally {
      db.close()
    }
  }
  const sql = pgClient(ctx.databaseUrl)
  try {
    const [row] = await sql`select value from server_secrets where name = 'cursor_signing_secret'`
    if (!row) throw new Error('no cursor_signing_secret in server_secrets')
    return row.value as string
  } finally {
    await sql.end({ timeout: 5 })
  }
}

type Page = { next_cursor: string | null; records: Array<{ id: number }> }

/**
 * Builds the deep cursors with the product's encodeCursor, the server's secret and the fingerprint
 * parseListQuery computes (route pattern, account id, no filters). Checked against the server twice: the
 * cursor built for the first page's last row must equal the next_cursor the server returned, and the deep
 * page must start right after the row the cursor names.
 */
export async function deepCursors(ctx: FleetContext, port: number): Promise<DeepCursors> {
  const secret = await cursorSecret(ctx)
  const fingerprint = fingerprintOf([FAULTS_ROUTE, ctx.credentials.accountId, []])
  const sorts: Record<DeepSort, { field: string; direction: 'asc' | 'desc' }> = {
    'id-desc': { field: 'id', direction: 'desc' },
    'created-asc': { field: 'created_at', direction: 'asc' },
  }
  const out: DeepCursors = { cursor: { 'id-desc': '', 'created-asc': '' }, query: sortQuery }
  for (const key of Object.keys(sorts) as DeepSort[]) {
    const sort = sorts[key]
    const build = (after: KeysetPosition) => encodeCursor({ after, sort, fingerprint }, secret)
    const first = await api<Page>(port, 'GET', `/api/v1/faults?per_page=50${sortQuery[key]}`, ctx.headers)
    const expectedNext = build(await positionAt(ctx, key, 49))
    if (first.next_cursor !== expectedNext) {
      throw new Error(`cursor check (${key}): built ${expectedNext}, the server's next_cursor is ${first.next_cursor}`)
    }
    const position = await positionAt(ctx, key, DEEP_OFFSET - 1)
    const cursor = build(position)
    const deep = await api<Page>(
      port,
      'GET',
      `/api/v1/faults?per_page=50${sortQuery[key]}&start_cursor=${encodeURIComponent(cursor)}`,
      ctx.headers,
    )
    const expectedFirst = await positionAt(ctx, key, DEEP_OFFSET)
    if (deep.records.length !== 50 || deep.records[0]?.id !== expectedFirst.id) {
      throw new Error(
        `deep page check (${key}): ${deep.records.length} records starting at id ${deep.records[0]?.id}, expected 50 from ${expectedFirst.id}`,
      )
    }
    log(`  deep cursor (${key}): after ${JSON.stringify(position)}, ${DEEP_OFFSET} rows in; first-page next_cursor matched`)
    out.cursor[key] = cursor
  }
  return out
}
