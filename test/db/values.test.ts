// Records made from rows read as values: one constructor per column list, any column name.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { recordBuilder } from '../../src/db/values.js'

describe('recordBuilder', () => {
  it('makes records with the columns as keys, in order, whatever the names hold', () => {
    const columns = ['id', 'vehicle_archived_at', 'quote"d', 'back\\slash', '__proto__x', 'line\nbreak']
    const build = recordBuilder(columns)
    const record = build([1, null, 'a', 'b', 'c', 'd'])
    assert.deepEqual(Object.keys(record), columns)
    assert.deepEqual(Object.values(record), [1, null, 'a', 'b', 'c', 'd'])
  })

  it('gives the same column list the same constructor, and another list another', () => {
    assert.equal(recordBuilder(['a', 'b']), recordBuilder(['a', 'b']))
    assert.notEqual(recordBuilder(['a', 'b']), recordBuilder(['a', 'c']))
    assert.deepEqual(recordBuilder(['a', 'b'])([1]), { a: 1, b: undefined })
  })
})
