// timestamptz text from PostgreSQL: the same ISO-8601 a Date would give, without the Date.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toIso } from '../../src/db/schema.js'
import { timestamptzFromText } from '../../src/db/timestamps.js'

describe('timestamptzFromText', () => {
  it('writes what toISOString writes for the same instant, whatever the fraction', () => {
    const cases: [string, string][] = [
      ['2026-12-03 16:31:03+00', '2026-12-03T16:31:03.000Z'],
      ['2026-12-03 16:31:03.1+00', '2026-12-03T16:31:03.100Z'],
      ['2026-12-03 16:31:03.12+00', '2026-12-03T16:31:03.120Z'],
      ['2026-12-03 16:31:03.123+00', '2026-12-03T16:31:03.123Z'],
      ['2024-02-29 23:59:59.999999+00', '2024-02-29T23:59:59.999Z'],
      ['0001-01-01 00:00:00.5+00', '0001-01-01T00:00:00.500Z'],
    ]
    for (const [text, iso] of cases) {
      assert.equal(timestamptzFromText(text), iso)
      assert.equal(timestamptzFromText(text), new Date(`${text.replace(' ', 'T')}:00`).toISOString())
    }
  })

  it('leaves to a Date what is not UTC text of four-digit years', () => {
    const other = timestamptzFromText('2026-12-03 18:31:03.5+02')
    assert.ok(other instanceof Date)
    assert.equal(other.toISOString(), '2026-12-03T16:31:03.500Z')
    assert.ok(timestamptzFromText('infinity') instanceof Date)
  })
})

describe('toIso', () => {
  it('passes the ISO-8601 both engines store, and what the PostgreSQL parser writes, unchanged', () => {
    assert.equal(toIso('2026-12-03T16:31:03.123Z'), '2026-12-03T16:31:03.123Z')
    const read = timestamptzFromText('2026-12-03 16:31:03.1+00')
    assert.equal(toIso(read), '2026-12-03T16:31:03.100Z')
    assert.equal(toIso(null), null)
    assert.equal(toIso(new Date('2026-12-03T16:31:03.5Z')), '2026-12-03T16:31:03.500Z')
  })

  it('rewrites any other form of an instant as toISOString does', () => {
    const cases: [string, string][] = [
      ['2026-12-03T16:31:03Z', '2026-12-03T16:31:03.000Z'],
      ['2026-12-03 16:31:03.123Z', '2026-12-03T16:31:03.123Z'],
      ['2026-12-03T18:31:03.123+02:00', '2026-12-03T16:31:03.123Z'],
      ['2026-12-03T16:31:03.123456Z', '2026-12-03T16:31:03.123Z'],
      // 24 characters with the T in place, but no Z: an offset instead.
      ['2026-12-03T16:31:03+0000', '2026-12-03T16:31:03.000Z'],
    ]
    for (const [text, iso] of cases) assert.equal(toIso(text), iso)
  })
})
