// The bench's servers and scenarios: append here to measure something new (see bench/README.md).
import { bulkScenarios } from './lib/bulk.js'
import { DEEP_OFFSET, DEEP_ROWS, type DeepCursors, type DeepSort, deepCursors, seedMillion, sortQuery } from './lib/deep.js'
import { faultBody, itemBody, jsonHeaders, PRE_CREATED_FAULTS, spreadIds } from './lib/fixtures.js'
import { baselineDbServer, type Engine, type FleetContext, productDbServer } from './lib/fleet.js'
import { ensureBuilt, PRODUCT_RUNTIME, productAvailable, productCli } from './lib/product.js'
import type { Scenario, ScenarioRequest, ServerSpec } from './lib/types.js'

export const baselineServer: ServerSpec = {
  id: 'baseline',
  description: 'bare Fastify 5, no plugins, logger off (bench/baseline.ts)',
  args: ['--import', 'tsx', 'bench/baseline.ts'],
  readyPath: '/small',
}

/**
 * The product server (`serve --no-demo`, compiled or tsx: BENCH_PRODUCT_RUNTIME); pass another id + env for
 * another configuration. The fault scenarios use productDbServer (lib/fleet.ts): a fresh database with an account.
 */
export function productServer(id = 'product', env: Record<string, string> = {}): ServerSpec {
  return {
    id,
    description: `fleet-faults serve --no-demo (${env.DATABASE_URL ?? 'sqlite::memory:'}, ${PRODUCT_RUNTIME})`,
    args: [...productCli(id), 'serve', '--no-demo'],
    env: { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'warn', ...env },
    readyPath: '/healthz',
    stopGraceMs: 30_000,
    unavailable: productAvailable,
    prepare: async () => {
      await ensureBuilt()
      return undefined
    },
  }
}

const product = productServer()

export const scenarios: Scenario[] = [
  {
    id: 'baseline-get',
    title: 'GET /small',
    server: baselineServer,
    request: { path: '/small' },
    expectStatus: 200,
  },
  {
    id: 'baseline-post',
    title: 'POST /items, ~400 B JSON, schema-validated',
    server: baselineServer,
    request: { method: 'POST', path: '/items', headers: jsonHeaders, body: itemBody },
    expectStatus: 201,
  },
  {
    id: 'product-healthz',
    title: 'GET /healthz',
    server: product,
    request: { path: '/healthz' },
    expectStatus: 200,
    baseline: 'baseline-get',
  },
  {
    id: 'product-404',
    title: 'GET /api/v1/nope, problem+json',
    server: product,
    request: { path: '/api/v1/nope' },
    expectStatus: 404,
    expectContentType: 'application/problem+json',
    baseline: 'baseline-get',
    target: 0.7,
  },
]

// ---------------------------------------------------------------------------------------------------------
// Faults on a database: the product vs a bare Fastify route doing only the same database work
// (bench/baseline-db.ts), per engine, each on a fresh database of its own.

/** Targets from the issue: req/s ratio vs the baseline, p99 under 4x the baseline's, server RSS under 200 MB. */
const P99_FACTOR = 4
const RSS_LIMIT_MB = 200
const getIds = spreadIds(PRE_CREATED_FAULTS, 200)

/**
 * Creates run on servers of their own: each create run adds thousands of rows, more on the faster baseline,
 * and get/list must compare tables of the same size (PRE_CREATED_FAULTS rows each).
 */
function faultScenarios(engine: Engine): Scenario[] {
  const product = productDbServer(`product-${engine}`, engine, { preFaults: PRE_CREATED_FAULTS })
  const baseline = baselineDbServer(`baseline-${engine}`, engine, PRE_CREATED_FAULTS)
  const productWrites = productDbServer(`product-${engine}-create`, engine, { preFaults: PRE_CREATED_FAULTS })
  const baselineWrites = baselineDbServer(`baseline-${engine}-create`, engine, PRE_CREATED_FAULTS)
  const headers = (): Record<string, string> => product.ctx().headers
  const productIds = (): number[] => {
    const { faultIds } = product.ctx()
    return getIds.map((i) => faultIds[i - 1] as number)
  }
  /** The create with `header` set to a new value on every request (autocannon's setupRequest). */
  const perRequestHeader = (auth: Record<string, string>, header: string): ScenarioRequest => {
    const base = { ...auth, ...jsonHeaders }
    let sequence = 0
    return {
      method: 'POST',
      path: '/api/v1/faults',
      headers: base,
      body: faultBody,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/faults',
          body: faultBody,
          setupRequest: (request) => ({ ...request, headers: { ...base, [header]: `bench-${process.pid}-${Date.now()}-${sequence++}` } }),
        },
      ],
    }
  }
  const getRequests = (prefix: string, ids: number[]): ScenarioRequest['requests'] =>
    ids.map((id) => ({ method: 'GET' as const, path: `${prefix}/${id}` }))
  const criteria = (target: number) => ({ target, p99Factor: P99_FACTOR, rssLimitMb: RSS_LIMIT_MB })
  const db = engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'
  return [
    {
      id: `baseline-${engine}-fault-create`,
      title: `POST /faults, validate + insert 1 row, ${db}`,
      server: baselineWrites,
      request: { method: 'POST', path: '/faults', headers: jsonHeaders, body: faultBody },
      expectStatus: 201,
    },
    {
      id: `product-${engine}-fault-create`,
      title: `POST /api/v1/faults, ${db}`,
      server: productWrites.spec,
      request: () => ({
        method: 'POST',
        path: '/api/v1/faults',
        headers: { ...productWrites.ctx().headers, ...jsonHeaders },
        body: faultBody,
      }),
      expectStatus: 201,
      expectContentType: 'application/json',
      baseline: `baseline-${engine}-fault-create`,
      ...criteria(0.7),
    },
    {
      // The keyed create's control: the same create, built per request by the same autocannon hook with a
      // header of its own on each (`X-Bench-Sequence`, which the server ignores), so that the client's
      // work (rebuilding every request costs autocannon much more than resending a fixed one) is the same
      // on both sides and the ratio is the server's.
      id: `product-${engine}-fault-create-sequenced`,
      title: `POST /api/v1/faults with a per-request header, ${db}`,
      server: productWrites.spec,
      request: () => perRequestHeader(productWrites.ctx().headers, 'x-bench-sequence'),
      expectStatus: 201,
      expectContentType: 'application/json',
    },
    {
      // Write safety's cost: the same create with a new Idempotency-Key on every request (the outcome
      // record written with the fault), against its control above, in the same run.
      id: `product-${engine}-fault-create-idempotent`,
      title: `POST /api/v1/faults with Idempotency-Key, ${db}`,
      server: productWrites.spec,
      request: () => perRequestHeader(productWrites.ctx().headers, 'idempotency-key'),
      expectStatus: 201,
      expectContentType: 'application/json',
      baseline: `product-${engine}-fault-create-sequenced`,
      ...criteria(0.8),
    },
    {
      id: `baseline-${engine}-fault-get`,
      title: `GET /faults/:id, select 1 row, ${db}`,
      server: baseline,
      request: { path: `/faults/${getIds[0]}`, requests: getRequests('/faults', getIds) },
      expectStatus: 200,
    },
    {
      id: `product-${engine}-fault-get`,
      title: `GET /api/v1/faults/:id, ${db}`,
      server: product.spec,
      request: () => {
        const ids = productIds()
        return { path: `/api/v1/faults/${ids[0]}`, headers: headers(), requests: getRequests('/api/v1/faults', ids) }
      },
      expectStatus: 200,
      expectContentType: 'application/json',
      baseline: `baseline-${engine}-fault-get`,
      ...criteria(0.6),
    },
    {
      id: `baseline-${engine}-fault-list`,
      title: `GET /faults?per_page=50, select 50 rows, ${db}`,
      server: baseline,
      request: { path: '/faults?per_page=50' },
      expectStatus: 200,
    },
    {
      id: `product-${engine}-fault-list`,
      title: `GET /api/v1/faults?per_page=50, ${db}`,
      server: product.spec,
      request: () => ({ path: '/api/v1/faults?per_page=50', headers: headers() }),
      expectStatus: 200,
      expectContentType: 'application/json',
      baseline: `baseline-${engine}-fault-list`,
      ...criteria(0.7),
    },
  ]
}

// ---------------------------------------------------------------------------------------------------------
// Opt-in (`--only deep`, `--only deep-sqlite`, `--only deep-pg`): list pages at the start (1,000 faults) and
// after a million faults in one account, first page vs a page ~900,000 rows in. Sequential requests
// (1 connection: p50 = median latency of sequential requests) and BENCH_CONNECTIONS concurrent ones.

/** "Deep pages must be no slower than 1.5x the first": req/s >= 1/1.5 of the first page's, p50 <= 1.5x. */
const DEEP_TARGET = 1 / 1.5
const DEEP_FACTOR = 1.5

/**
 * PostgreSQL's synchronized sequential scans start a table scan where the previous one stopped. With the
 * same deep page requested over and over, that hides a plan that scans the table: after the first request
 * every scan starts right at the matching rows. Off (per bench database; BENCH_PG_SYNCSCAN=on keeps the
 * server default), a scan costs what it costs, as it would among a production server's varied queries.
 */
const deepPgSettings: Record<string, string> = process.env.BENCH_PG_SYNCSCAN === 'on' ? {} : { synchronize_seqscans: 'off' }

function deepScenarios(engine: Engine): Scenario[] {
  let cursors: DeepCursors | null = null
  const start = productDbServer(`deep-${engine}-start`, engine, { preFaults: PRE_CREATED_FAULTS, pgSettings: deepPgSettings })
  const big = productDbServer(`deep-${engine}-1m`, engine, {
    pgSettings: deepPgSettings,
    extraSetup: async (ctx: FleetContext, port: number) => {
      await seedMillion(ctx)
      cursors = await deepCursors(ctx, port)
    },
  })
  const db = engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'
  const million = `${(DEEP_ROWS / 1e6).toLocaleString('en')}M`
  const page = (server: typeof start, sort: DeepSort, deep: boolean) => (): ScenarioRequest => {
    let path = `/api/v1/faults?per_page=50${sortQuery[sort]}`
    if (deep) {
      if (!cursors) throw new Error('deep cursors were not built')
      path += `&start_cursor=${encodeURIComponent(cursors.cursor[sort])}`
    }
    return { path, headers: server.ctx().headers }
  }
  const common = { expectStatus: 200, expectContentType: 'application/json', optIn: true, rssLimitMb: RSS_LIMIT_MB }
  const deepCriteria = { target: DEEP_TARGET, p50Factor: DEEP_FACTOR }
  const at = `${DEEP_OFFSET.toLocaleString('en')} rows in`
  const out: Scenario[] = []
  for (const conn of [1, undefined]) {
    const suffix = conn === 1 ? '' : '-cN'
    const id = (name: string) => `deep-${engine}-${name}${suffix}`
    out.push(
      {
        id: id('start'),
        title: `first page, ${PRE_CREATED_FAULTS} faults, ${db}`,
        server: start.spec,
        request: page(start, 'id-desc', false),
        connections: conn,
        ...common,
      },
      {
        id: id('first'),
        title: `first page, ${million} faults, ${db}`,
        server: big.spec,
        request: page(big, 'id-desc', false),
        connections: conn,
        baseline: id('start'),
        ...common,
      },
      {
        id: id('deep'),
        title: `page ${at}, ${million} faults, ${db}`,
        server: big.spec,
        request: page(big, 'id-desc', true),
        connections: conn,
        baseline: id('first'),
        ...common,
        ...deepCriteria,
      },
    )
    if (conn === 1) {
      out.push(
        {
          id: id('first-created'),
          title: `first page sort[created_at]=asc, ${million} faults, ${db}`,
          server: big.spec,
          request: page(big, 'created-asc', false),
          connections: conn,
          baseline: id('first'),
          ...common,
        },
        {
          id: id('deep-created'),
          title: `page ${at} sort[created_at]=asc, ${million} faults, ${db}`,
          server: big.spec,
          request: page(big, 'created-asc', true),
          connections: conn,
          baseline: id('first-created'),
          ...common,
          ...deepCriteria,
        },
      )
    }
  }
  return out
}

scenarios.push(...faultScenarios('sqlite'), ...faultScenarios('pg'), ...deepScenarios('sqlite'), ...deepScenarios('pg'))

// Opt-in (`--only bulk`, `bulk-sqlite`, `bulk-pg`): faults a second through bulk jobs vs raw multi-row inserts (lib/bulk.ts).
scenarios.push(...bulkScenarios('sqlite'), ...bulkScenarios('pg'))
