// Configuration (CONTRACT §12): defaults, conversion, and a clear error naming each bad variable.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig } from '../src/config.js'

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({})
    assert.equal(config.PORT, 3000)
    assert.equal(config.HOST, '127.0.0.1')
    assert.equal(config.DATABASE_URL, 'sqlite:./data/fleet-faults.db')
    assert.equal(config.SQLITE_SYNCHRONOUS, 'NORMAL')
    assert.equal(config.REDIS_URL, undefined)
    assert.equal(config.RATE_LIMIT_QUOTA, 600)
    assert.equal(config.RATE_LIMIT_WINDOW_SECONDS, 60)
    assert.equal(config.BULK_MAX_RECORDS, 1000)
    assert.equal(config.MAINTENANCE_MODE, false)
    assert.equal(config.HEAP_GROWING_PERCENT, 100)
    assert.equal(config.LOG_LEVEL, 'info')
    assert.ok(Object.isFrozen(config))
  })

  it('converts strings to the declared types', () => {
    const config = loadConfig({ PORT: '8080', MAINTENANCE_MODE: 'true', DATABASE_URL: 'postgres://u@h/db', SQLITE_SYNCHRONOUS: 'FULL' })
    assert.equal(config.PORT, 8080)
    assert.equal(config.MAINTENANCE_MODE, true)
    assert.equal(config.DATABASE_URL, 'postgres://u@h/db')
    assert.equal(config.SQLITE_SYNCHRONOUS, 'FULL')
  })

  it('ignores variables it does not know and empty values', () => {
    const config = loadConfig({ PATH: '/bin', PORT: '' })
    assert.equal(config.PORT, 3000)
    assert.equal((config as Record<string, unknown>).PATH, undefined)
  })

  for (const [name, value] of [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['SQLITE_SYNCHRONOUS', 'OFF'],
    ['MAINTENANCE_MODE', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['RATE_LIMIT_QUOTA', '0'],
    ['REDIS_URL', 'localhost:6379'],
    ['HEAP_GROWING_PERCENT', '-1'],
  ] as const) {
    it(`rejects ${name}=${value} naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.includes(`${name}=`),
      )
    })
  }
})
