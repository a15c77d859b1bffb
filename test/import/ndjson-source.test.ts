// The NDJSON reader: one object a line, blank lines counted but skipped, a bad line rejected instead of thrown.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { readNdjson } from '../../src/import/ndjson-source.js'
import type { SourceRow } from '../../src/import/records.js'

async function read(...chunks: string[]): Promise<SourceRow[]> {
  const rows: SourceRow[] = []
  for await (const row of readNdjson(Readable.from(chunks))) rows.push(row)
  return rows
}

describe('NDJSON reader', () => {
  it('reads one object a line with its line number, skipping blank lines, across chunk boundaries and CRLF', async () => {
    const rows = await read(
      '\ufeff{"vehicle_id": 1, "code": "P0',
      '301"}\r\n\r\n   \n{"vehicle_id": 2, "code": "B", "count": "3"}\n',
      '\n{"code":"C"}',
    )
    assert.deepEqual(rows, [
      { line: 1, record: { vehicle_id: 1, code: 'P0301' } },
      { line: 4, record: { vehicle_id: 2, code: 'B', count: '3' } },
      { line: 6, record: { code: 'C' } },
    ])
  })

  it('turns a malformed line into a rejected row carrying the text and the parse error, and reads on', async () => {
    const rows = await read('{"code":"A"}\n{"code": "B",\n{"code":"C"}\n')
    assert.equal(rows.length, 3)
    const bad = rows[1]
    assert.ok(bad && 'errors' in bad)
    assert.equal(bad.line, 2)
    assert.equal(bad.record, '{"code": "B",')
    assert.match(bad.errors.base?.[0] ?? '', /^is not valid JSON: /)
    assert.deepEqual(rows[2], { line: 3, record: { code: 'C' } })
  })

  it('rejects a line that is JSON but not an object', async () => {
    const rows = await read('[1,2]\nnull\n42\n"text"\n')
    assert.deepEqual(
      rows.map((row) => [row.line, row.record, 'errors' in row ? row.errors : null]),
      [
        [1, [1, 2], { base: ['is not a JSON object'] }],
        [2, null, { base: ['is not a JSON object'] }],
        [3, 42, { base: ['is not a JSON object'] }],
        [4, 'text', { base: ['is not a JSON object'] }],
      ],
    )
  })
})
