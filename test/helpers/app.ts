// buildTestApp: a real app on a fresh database of its own (SQLite in memory, or a PostgreSQL schema).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { FastifyInstance } from 'fastify'
import postgres from 'postgres'
import { buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config.js'
import { createDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'

/** The engine under test: DATABASE_URL from the environment (postgres://…), else SQLite in memory. */
export const baseDatabaseUrl = process.env.DATABASE_URL ?? 'sqlite::memory:'
export const engine = baseDatabaseUrl.startsWith('postgres') ? 'postgres' : 'sqlite'

export interface TestApp {
  app: FastifyInstance
  config: Readonly<Config>
  databaseUrl: string
  close(): Promise<void>
}

/**
 * A database of its own: a new in-memory database on SQLite; on PostgreSQL a new database in the
 * cluster of DATABASE_URL, dropped afterwards. (Schemas in one database raced: Kysely's migrator
 * reads every schema's tables while other test processes drop theirs.)
 */
export async function freshDatabaseUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  if (engine === 'sqlite') return { url: 'sqlite::memory:', drop: async () => {} }
  const name = `ff_test_${randomBytes(6).toString('hex')}`
  const admin = postgres(baseDatabaseUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(baseDatabaseUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const cleanup = postgres(baseDatabaseUrl, { max: 1, onnotice: () => {} })
      await cleanup.unsafe(`drop database if exists ${name} with (force)`)
      await cleanup.end()
    },
  }
}

export interface TestAppOptions {
  env?: Record<string, string>
  /** Registers extra routes (test-only endpoints exercising the domain-free contract). */
  extend?: (app: FastifyInstance) => void | Promise<void>
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const fresh = await freshDatabaseUrl()
  // Each app counts in a namespace of its own when tests share one Redis.
  const prefix = `test-${randomBytes(6).toString('hex')}:`
  const redis = process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}
  const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_KEY_PREFIX: prefix, ...redis, ...options.env, DATABASE_URL: fresh.url })
  const database = createDatabase(config)
  try {
    await migrateToLatest(database.db)
  } catch (error) {
    // A failed migration must not leave a pool open (the test process would never exit).
    await database.close()
    await fresh.drop()
    throw error
  }
  const app = await buildApp(config, { database })
  await options.extend?.(app)
  await app.ready()
  return {
    app,
    config,
    databaseUrl: fresh.url,
    async close() {
      await app.close()
      await fresh.drop()
    },
  }
}

interface ResponseLike {
  statusCode: number
  headers: Record<string, unknown>
  body: string
}

/** Asserts what every problem document must be (RFC 9457 + contract §3); returns the parsed body. */
export function expectProblem(response: ResponseLike, status: number, type = 'about:blank'): Record<string, unknown> {
  assert.equal(response.statusCode, status, `expected ${status}, got ${response.statusCode}: ${response.body}`)
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/)
  assert.equal(response.headers['x-content-type-options'], 'nosniff')
  const requestId = String(response.headers['x-request-id'])
  assert.ok(requestId.length > 0, 'X-Request-Id present')
  const body = JSON.parse(response.body) as Record<string, unknown>
  assert.equal(body.status, status)
  assert.equal(body.type, type)
  assert.equal(typeof body.title, 'string')
  assert.equal(typeof body.detail, 'string')
  assert.ok(String(body.instance).includes(requestId), 'instance carries the request id')
  if (type === 'about:blank') assert.equal(body.title, STATUS_CODES[status])
  return body
}
