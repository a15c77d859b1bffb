// Bare Fastify 5 + the product's database layer: the floor for the fault scenarios (only the database work).
//
// Same engine, driver and settings as the product: createDatabase() from src (better-sqlite3 with WAL,
// synchronous=NORMAL, foreign_keys on, busy_timeout; or postgres.js with a pool of 10 through Kysely), and
// the product's migrations for the same schema and indexes. No plugins, no auth, logger off. Routes:
//   POST /faults       validates the Create Fault body (the product's own TypeBox schema, Fastify's default
//                      ajv) and inserts one row, returning it: 201 + Location
//   GET  /faults/:id   selects one row by id (within the account)
//   GET  /faults       selects one page: the account's newest `per_page` (default 50) rows by id
//   POST /bulk-insert  {first, count, batch}: inserts `count` rows of the bulk-ingest records (bulkRecord(first…))
//                      with multi-row INSERTs of `batch` rows, one transaction each: the raw floor of bulk jobs
//   GET  /ready        200 once the database is migrated and seeded (the harness polls it)
// Env: DATABASE_URL (a fresh database of its own), BENCH_BASELINE_FAULTS (rows seeded first, default 1000;
// then VACUUM ANALYZE on PostgreSQL).
import Fastify from 'fastify'
import { type Insertable, sql } from 'kysely'
import { createDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'
import type { FaultsTable } from '../src/db/schema.js'
import { FAULT_COLUMNS } from '../src/modules/faults/faults.repository.js'
import { CreateFault } from '../src/modules/faults/faults.schemas.js'
import { bulkRecord, faultPayload, rulePayload, vehiclePayload } from './lib/fixtures.js'

const nullableString = { type: ['string', 'null'] }
const timestamp = { type: 'string', format: 'date-time' }
/** The row as stored (no join, no mapping): fast-json-stringify turns PostgreSQL Dates into ISO strings. */
const faultRow = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    created_at: timestamp,
    updated_at: timestamp,
    account_id: { type: 'integer' },
    vehicle_id: { type: 'integer' },
    code: { type: 'string' },
    count: { type: 'integer' },
    description: nullableString,
    external_id: nullableString,
    last_occurred_at: timestamp,
    name: nullableString,
    status: { type: 'string' },
    source: nullableString,
    fault_rule_id: { type: ['integer', 'null'] },
    is_sample: { type: 'boolean' },
    idempotency_key: nullableString,
  },
} as const

type Body = {
  vehicle_id: number
  code: string
  count?: number
  description?: string
  external_id?: string
  last_occurred_at?: string
  name?: string
  status?: 'open' | 'resolved' | 'ignored'
  source?: string
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL
  if (!databaseUrl) throw new Error('DATABASE_URL is required')
  const database = createDatabase({ DATABASE_URL: databaseUrl, SQLITE_SYNCHRONOUS: 'NORMAL' })
  const { db } = database
  await migrateToLatest(db)

  // The account, vehicle and rule the product's setup makes (ids 1 in a fresh database), then the faults.
  const now = new Date().toISOString()
  const account = await db
    .insertInto('accounts')
    .values({ name: 'Bench', account_token: 'bench-baseline', created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow()
  const vehicle = await db
    .insertInto('vehicles')
    .values({ ...vehiclePayload, account_id: account.id, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow()
  const rule = await db
    .insertInto('fault_rules')
    .values({ ...rulePayload, account_id: account.id, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow()
  if (vehicle.id !== faultPayload.vehicle_id)
    throw new Error(`baseline vehicle got id ${vehicle.id}, the bench body names ${faultPayload.vehicle_id}`)
  const accountId = account.id
  const ruleId = rule.id

  const rowOf = (body: Body): Insertable<FaultsTable> => {
    const at = new Date().toISOString()
    return {
      account_id: accountId,
      vehicle_id: body.vehicle_id,
      fault_rule_id: ruleId,
      code: body.code,
      count: body.count ?? 1,
      description: body.description ?? null,
      external_id: body.external_id ?? null,
      last_occurred_at: body.last_occurred_at ? new Date(body.last_occurred_at).toISOString() : at,
      name: body.name ?? null,
      status: body.status ?? 'open',
      source: body.source ?? 'api',
      is_sample: 0,
      idempotency_key: null,
      created_at: at,
      updated_at: at,
    }
  }

  const seed = Number(process.env.BENCH_BASELINE_FAULTS ?? 1000)
  for (let done = 0; done < seed; ) {
    const n = Math.min(500, seed - done)
    await db
      .insertInto('faults')
      .values(Array.from({ length: n }, () => rowOf(faultPayload)))
      .execute()
    done += n
  }
  // As the product's setup does on PostgreSQL (lib/fleet.ts analyzePg): plans must not depend on autovacuum timing.
  if (database.engine === 'postgres') await sql`vacuum analyze`.execute(db)

  const app = Fastify({ logger: false })

  app.post<{ Body: Body }>('/faults', { schema: { body: CreateFault, response: { 201: faultRow } } }, async (request, reply) => {
    const row = await db.insertInto('faults').values(rowOf(request.body)).returning(FAULT_COLUMNS).executeTakeFirstOrThrow()
    reply.code(201).header('location', `/api/v1/faults/${row.id}`)
    return row
  })

  app.get<{ Params: { id: number } }>(
    '/faults/:id',
    {
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        response: { 200: faultRow },
      },
    },
    async (request, reply) => {
      const row = await db
        .selectFrom('faults')
        .select(FAULT_COLUMNS)
        .where('account_id', '=', accountId)
        .where('id', '=', request.params.id)
        .executeTakeFirst()
      if (!row) return reply.code(404).send({ status: 404 })
      return row
    },
  )

  app.get<{ Querystring: { per_page: number } }>(
    '/faults',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { per_page: { type: 'integer', minimum: 1, maximum: 100, default: 50 } },
        },
        response: { 200: { type: 'object', properties: { records: { type: 'array', items: faultRow } } } },
      },
    },
    async (request) => {
      const records = await db
        .selectFrom('faults')
        .select(FAULT_COLUMNS)
        .where('account_id', '=', accountId)
        .orderBy('id', 'desc')
        // A literal, as the product writes it: SQLite re-prepares a statement whose LIMIT is a parameter
        // at every new binding, work neither needs.
        .limit(sql.lit(request.query.per_page))
        .execute()
      return { records }
    },
  )

  const count = { type: 'integer', minimum: 1, maximum: 10_000_000 } as const
  app.post<{ Body: { first: number; count: number; batch: number } }>(
    '/bulk-insert',
    {
      schema: {
        body: {
          type: 'object',
          required: ['first', 'count', 'batch'],
          properties: { first: { type: 'integer', minimum: 0 }, count, batch: count },
        },
      },
    },
    async (request) => {
      const { first, count, batch } = request.body
      for (let from = first; from < first + count; from += batch) {
        const rows = Array.from({ length: Math.min(batch, first + count - from) }, (_, i) => rowOf(bulkRecord(from + i)))
        await db.transaction().execute((trx) => trx.insertInto('faults').values(rows).execute())
      }
      return { inserted: count }
    },
  )

  app.get('/ready', async () => ({ status: 'ok' }))

  const port = Number(process.env.PORT ?? 3000)
  const host = process.env.HOST ?? '127.0.0.1'
  await app.listen({ port, host })
  const shutdown = () => {
    void app
      .close()
      .then(() => database.close())
      .finally(() => process.exit(0))
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
