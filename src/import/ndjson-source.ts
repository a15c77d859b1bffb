// Reads an NDJSON file (one JSON object a line) as numbered rows, line by line, never the whole file.
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { SourceRow } from './records.js'

/** One line of NDJSON as a row: the object it holds, or a rejected row saying why it is not one. */
export function parseNdjsonLine(line: number, text: string): SourceRow {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return { line, record: text, errors: { base: [`is not valid JSON: ${(error as Error).message}`] } }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { line, record: value, errors: { base: ['is not a JSON object'] } }
  }
  return { line, record: value as Record<string, unknown> }
}

/** Rows of an NDJSON stream; blank lines are skipped but still counted, so line numbers match the file. */
export async function* readNdjson(input: Readable): AsyncGenerator<SourceRow> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  let line = 0
  try {
    for await (const raw of lines) {
      line++
      const text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw
      if (text.trim() === '') continue
      yield parseNdjsonLine(line, text)
    }
  } finally {
    lines.close()
  }
}
