// The bench's servers and scenarios: append here to measure something new (see bench/README.md).
import { existsSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from './lib/config.js'
import { itemBody, jsonHeaders } from './lib/fixtures.js'
import type { Scenario, ServerSpec } from './lib/types.js'

export const baselineServer: ServerSpec = {
  id: 'baseline',
  description: 'bare Fastify 5, no plugins, logger off (bench/baseline.ts)',
  args: ['--import', 'tsx', 'bench/baseline.ts'],
  readyPath: '/small',
}

/** The product server (`src/cli.ts serve --no-demo`); pass another id + env for e.g. a PostgreSQL variant. */
export function productServer(id = 'product', env: Record<string, string> = {}): ServerSpec {
  return {
    id,
    description: `fleet-faults serve --no-demo (${env.DATABASE_URL ?? 'sqlite::memory:'})`,
    args: ['--import', 'tsx', 'src/cli.ts', 'serve', '--no-demo'],
    env: { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'warn', ...env },
    readyPath: '/healthz',
    unavailable: () => (existsSync(path.join(REPO_ROOT, 'src/cli.ts')) ? undefined : 'src/cli.ts does not exist yet'),
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
