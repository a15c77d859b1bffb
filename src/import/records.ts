// What the file readers produce: numbered rows, typed records for the bulk API, or rows rejected before sending.

/** The resources a bulk job can create (CONTRACT §10). */
export const resources = ['fault', 'vehicle'] as const
export type Resource = (typeof resources)[number]

/** Field → messages, the Fleetio hash of CONTRACT §5; `base` holds what concerns the whole row. */
export type RowErrors = Record<string, string[]>

/** A row ready to send: its 1-based line in the source file and the record built from it. */
export interface ValidRow {
  line: number
  record: Record<string, unknown>
}

/** A row the reader could not turn into a record (malformed JSON, broken quoting): never sent. */
export interface InvalidRow {
  line: number
  /** What the file held, as far as it could be read (the raw text when nothing better exists). */
  record: unknown
  errors: RowErrors
}

export type SourceRow = ValidRow | InvalidRow

export function isInvalid(row: SourceRow): row is InvalidRow {
  return 'errors' in row
}

/** A fatal problem with the import as a whole (bad options, unreadable header, a job the server refuses). */
export class ImportError extends Error {
  override name = 'ImportError'
}

/**
 * Integer fields per resource: a CSV cell is text, so these are converted when they are whole
 * numbers; anything else is sent as the text it is, for the server to answer `is not a number`.
 */
const integerFields: Record<Resource, ReadonlySet<string>> = {
  fault: new Set(['vehicle_id', 'count']),
  vehicle: new Set(['year']),
}

const INTEGER = /^\s*[+-]?\d+\s*$/

/** The value of one CSV cell for `field`: integers for integer fields, else the text unchanged. */
export function cellValue(resource: Resource, field: string, text: string): unknown {
  if (!integerFields[resource].has(field) || !INTEGER.test(text)) return text
  const number = Number(text)
  return Number.isSafeInteger(number) ? number : text
}

/** A record from a header and one row of cells; an empty cell leaves its field out. */
export function recordFromCells(resource: Resource, header: readonly string[], cells: readonly string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {}
  for (let i = 0; i < header.length; i++) {
    const field = header[i]
    const text = cells[i]
    if (!field || text === undefined || text === '') continue
    record[field] = cellValue(resource, field, text)
  }
  return record
}
