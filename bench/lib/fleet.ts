// Database-backed bench servers: the product on a fresh database of its own, set up through its CLI and API,
// and the bare baseline (bench/baseline-db.ts) on another fresh database of the same engine.
import postgres from 'postgres'
import { faultBody, faultPayload, rulePayload, vehiclePayload } from './fixtures.js'
import { api, authHeaders, type Credentials, createAccount, ensureBuilt, pool, productAvailable, productCli } from './product.js'
import { createPgDatabase, pgUnavailable, tempSqlitePath } from './resources.js'
import type { ServerSpec } from './types.js'

export type Engine = 'sqlite' | 'pg'

/** Bench runs must never see 429s. */
const RATE_LIMIT_QUOTA = '100000000'

/** A fresh, empty database of the engine: a temp SQLite file (WAL applies) or a new PostgreSQL database. */
export async function freshDatabase(engine: Engine, name: string, pgSettings: Record<string, string> = {}): Promise<string> {
  return engine === 'sqlite' ? `sqlite:${tempSqlitePath(name)}` : createPgDatabase(name, pgSettings)
}

/** What a product server's setup made; filled in by prepare/afterStart, read by the scenarios' request functions. */
export interface FleetContext {
  engine: Engine
  databaseUrl: string
  credentials: Credentials
  headers: Record<string, string>
  vehicleId: number
  ruleId: number
  /** Ids of the faults created through the API before the load. */
  faultIds: number[]
}

export interface ProductDbOptions {
  /** Faults created through POST /api/v1/faults during setup. */
  preFaults?: number
  /** More setup once the vehicle, rule and faults exist (e.g. seed a million rows). */
  extraSetup?: (ctx: FleetContext, port: number) => Promise<void>
  /** PostgreSQL settings of the fresh database (ALTER DATABASE … SET), in place before the server connects. */
  pgSettings?: Record<string, string>
}

/**
 * The product (`serve --no-demo`) on a fresh database: `accounts create --json` before it starts, then a
 * vehicle, a fault rule and `preFaults` faults through the API. `ctx()` throws until the setup has run.
 */
export function productDbServer(id: string, engine: Engine, options: ProductDbOptions = {}): { spec: ServerSpec; ctx: () => FleetContext } {
  let context: FleetContext | null = null
  let partial: Pick<FleetContext, 'databaseUrl' | 'credentials'> | null = null
  const spec: ServerSpec = {
    id,
    description: `fleet-faults serve --no-demo on a fresh ${engine === 'sqlite' ? 'SQLite file' : 'PostgreSQL database'}`,
    args: [...productCli(id), 'serve', '--no-demo'],
    env: { LOG_LEVEL: 'warn', RATE_LIMIT_QUOTA },
    readyPath: '/healthz',
    stopGraceMs: 30_000,
    unavailable: () => productAvailable() ?? (engine === 'pg' ? pgUnavailable() : undefined),
    async prepare() {
      await ensureBuilt()
      const databaseUrl = await freshDatabase(engine, id, options.pgSettings)
      partial = { databaseUrl, credentials: await createAccount(databaseUrl) }
      return { DATABASE_URL: databaseUrl }
    },
    async afterStart({ port }) {
      if (!partial) throw new Error('prepare did not run')
      const headers = authHeaders(partial.credentials)
      const vehicle = await api<{ id: number }>(port, 'POST', '/api/v1/vehicles', headers, vehiclePayload)
      if (vehicle.id !== faultPayload.vehicle_id)
        throw new Error(`vehicle got id ${vehicle.id}, the bench body names ${faultPayload.vehicle_id}`)
      const rule = await api<{ id: number }>(port, 'POST', '/api/v1/fault_rules', headers, rulePayload)
      const faults = await pool(options.preFaults ?? 0, 8, () => api<{ id: number }>(port, 'POST', '/api/v1/faults', headers, faultBody))
      context = { engine, ...partial, headers, vehicleId: vehicle.id, ruleId: rule.id, faultIds: faults.map((f) => f.id) }
      if (engine === 'pg') await analyzePg(partial.databaseUrl)
      await options.extraSetup?.(context, port)
    },
  }
  return {
    spec,
    ctx: () => {
      if (!context) throw new Error(`server '${id}' is not set up`)
      return context
    },
  }
}

/**
 * Fresh statistics and visibility map, as autovacuum keeps them on a live database (PostgreSQL 13+ also
 * vacuums after inserts): without them the planner's choice, and whether an index-only scan must visit the
 * heap, depend on whether autovacuum happened to run yet. (SQLite gets no ANALYZE: the product never runs one.)
 */
export async function analyzePg(databaseUrl: string): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    await sql`vacuum analyze`
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** bench/baseline-db.ts on a fresh database of the engine, seeded with `faults` rows (analyzed on PostgreSQL). */
export function baselineDbServer(id: string, engine: Engine, faults: number): ServerSpec {
  return {
    id,
    description: `bare Fastify 5 + Kysely on a fresh ${engine === 'sqlite' ? 'SQLite file' : 'PostgreSQL database'} (bench/baseline-db.ts)`,
    args: ['--import', 'tsx', 'bench/baseline-db.ts'],
    env: { BENCH_BASELINE_FAULTS: String(faults) },
    readyPath: '/ready',
    unavailable: () => (engine === 'pg' ? pgUnavailable() : undefined),
    async prepare() {
      return { DATABASE_URL: await freshDatabase(engine, id) }
    },
  }
}
