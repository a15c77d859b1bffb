// Reads a CSV file as numbered rows: the header row names the fields, each later row becomes a record.
import { CsvParser, type CsvRow } from './csv-parser.js'
import { ImportError, type Resource, recordFromCells, type SourceRow } from './records.js'

/** The field names of a header row: trimmed; blank names drop their column; duplicates are an error. */
export function headerFields(row: CsvRow): string[] {
  if ('error' in row) throw new ImportError(`the CSV header on line ${row.line} cannot be read: ${row.error}`)
  const names = row.fields.map((name) => name.trim())
  const seen = new Set<string>()
  for (const name of names) {
    if (name && seen.has(name)) throw new ImportError(`the CSV header names the column "${name}" twice`)
    seen.add(name)
  }
  return names
}

function toSourceRow(resource: Resource, header: readonly string[], row: CsvRow): SourceRow {
  if ('error' in row) return { line: row.line, record: row.text, errors: { base: [`is not valid CSV: ${row.error}`] } }
  if (row.fields.length !== header.length) {
    return {
      line: row.line,
      record: row.fields,
      errors: { base: [`has ${row.fields.length} fields where the header has ${header.length}`] },
    }
  }
  return { line: row.line, record: recordFromCells(resource, header, row.fields) }
}

/** Rows of a CSV text stream (decoded chunks of any size, e.g. a utf8 read stream); the header is not a row. */
export async function* readCsv(chunks: AsyncIterable<string>, resource: Resource): AsyncGenerator<SourceRow> {
  const parser = new CsvParser()
  let header: string[] | undefined
  const rows = function* (parsed: CsvRow[]): Generator<SourceRow> {
    for (const row of parsed) {
      if (header === undefined) header = headerFields(row)
      else yield toSourceRow(resource, header, row)
    }
  }
  for await (const chunk of chunks) yield* rows(parser.push(chunk))
  yield* rows(parser.end())
}
