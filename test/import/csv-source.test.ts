// The CSV reader: RFC 4180 quoting, line numbers of every record, typed cells, and bad rows reported instead of thrown.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CsvParser, type CsvRow } from '../../src/import/csv-parser.js'
import { readCsv } from '../../src/import/csv-source.js'
import { ImportError, type SourceRow } from '../../src/import/records.js'

/** Parses `text` fed in chunks of `size` characters (every split point gets exercised with size 1). */
function parse(text: string, size = text.length || 1, max?: number): CsvRow[] {
  const parser = new CsvParser(max)
  const rows: CsvRow[] = []
  for (let i = 0; i < text.length; i += size) rows.push(...parser.push(text.slice(i, i + size)))
  rows.push(...parser.end())
  return rows
}

async function read(text: string, chunk = text.length || 1): Promise<SourceRow[]> {
  async function* chunks(): AsyncGenerator<string> {
    for (let i = 0; i < text.length; i += chunk) yield text.slice(i, i + chunk)
  }
  const rows: SourceRow[] = []
  for await (const row of readCsv(chunks(), 'fault')) rows.push(row)
  return rows
}

describe('CSV parser', () => {
  const tricky = ['a,b,c', '1,"x, y",3', '', '"multi', 'line","q""uote",', '"crlf\r\ninside","",""""', 'last,row,here'].join('\r\n')

  const expected: CsvRow[] = [
    { line: 1, fields: ['a', 'b', 'c'] },
    { line: 2, fields: ['1', 'x, y', '3'] },
    { line: 4, fields: ['multi\r\nline', 'q"uote', ''] },
    { line: 6, fields: ['crlf\r\ninside', '', '"'] },
    { line: 8, fields: ['last', 'row', 'here'] },
  ]

  it('reads quoted commas, line breaks and quotes, empty fields, and knows the line each record starts on', () => {
    assert.deepEqual(parse(tricky), expected)
  })

  it('gives the same rows whatever the chunk boundaries (one character at a time, split CR LF, split "")', () => {
    for (const size of [1, 2, 3, 7, 64]) assert.deepEqual(parse(tricky, size), expected, `chunks of ${size}`)
  })

  it('accepts LF, CRLF and CR line endings mixed in one file, and skips blank lines while counting them', () => {
    assert.deepEqual(parse('a,b\r\n1,2\n\n3,4\r5,6\r\n\r\n7,"p\nq"\n8,9'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
      { line: 4, fields: ['3', '4'] },
      { line: 5, fields: ['5', '6'] },
      { line: 7, fields: ['7', 'p\nq'] },
      { line: 9, fields: ['8', '9'] },
    ])
  })

  it('drops a byte order mark, keeps a trailing empty field and a bare quote inside an unquoted field', () => {
    assert.deepEqual(parse('\ufeffa,b,\n12" pipe,x,\n'), [
      { line: 1, fields: ['a', 'b', ''] },
      { line: 2, fields: ['12" pipe', 'x', ''] },
    ])
  })

  it('reports text after a closing quote as an error row and resumes on the next line', () => {
    assert.deepEqual(parse('a,b\n1,"x"y\n2,3\n'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, error: 'unexpected "y" after a closing quote', text: '1,"x"y' },
      { line: 3, fields: ['2', '3'] },
    ])
  })

  it('reports a quote never closed at the end of the file', () => {
    const rows = parse('a,b\n1,"open\n2,3\n')
    assert.equal(rows.length, 2)
    assert.deepEqual(rows[1], { line: 2, error: 'quote opened on line 2 is never closed', text: '1,"open\n2,3' })
  })

  it('reports a record over the size cap without buffering it, and resumes on the next line', () => {
    const rows = parse(`a\n"${'x'.repeat(50)}\nb\n`, 4, 20)
    assert.equal(rows.length, 3)
    assert.match((rows[1] as { error: string }).error, /longer than 20 characters/)
    assert.deepEqual(rows[2], { line: 3, fields: ['b'] })
  })
})

describe('CSV reader', () => {
  it('names fields from the header, leaves empty cells out and types integer fields', async () => {
    const rows = await read(
      ' vehicle_id ,code,count,description,external_id\n7,P0301,3,"Misfire, cylinder 1",\n,P0420,,"two\nlines",0042\nabc,X,1.5,,\n',
    )
    assert.deepEqual(rows, [
      { line: 2, record: { vehicle_id: 7, code: 'P0301', count: 3, description: 'Misfire, cylinder 1' } },
      { line: 3, record: { code: 'P0420', description: 'two\nlines', external_id: '0042' } },
      { line: 5, record: { vehicle_id: 'abc', code: 'X', count: '1.5' } },
    ])
  })

  it('turns a row with the wrong number of fields or broken quoting into a rejected row, not an exception', async () => {
    const rows = await read('vehicle_id,code\n1,A\n2,B,extra\n3\n4,"C"x\n5,D\n', 5)
    assert.deepEqual(
      rows.map((row) => [row.line, 'errors' in row ? row.errors.base?.[0] : 'ok']),
      [
        [2, 'ok'],
        [3, 'has 3 fields where the header has 2'],
        [4, 'has 1 fields where the header has 2'],
        [5, 'is not valid CSV: unexpected "x" after a closing quote'],
        [6, 'ok'],
      ],
    )
    assert.deepEqual(rows[1]?.record, ['2', 'B', 'extra'])
    assert.equal(rows[3]?.record, '4,"C"x')
  })

  it('refuses a header that names a column twice', async () => {
    await assert.rejects(read('code,code\n1,2\n'), (error: unknown) => error instanceof ImportError && /"code" twice/.test(error.message))
  })

  it('reads an empty file, or one with only a header, as no rows', async () => {
    assert.deepEqual(await read(''), [])
    assert.deepEqual(await read('vehicle_id,code\n'), [])
  })
})
