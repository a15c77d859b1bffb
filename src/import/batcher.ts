// Cuts the stream of rows into bulk-job batches, and names each batch with a deterministic Idempotency-Key.
import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type InvalidRow, isInvalid, type Resource, type SourceRow, type ValidRow } from './records.js'

/** Up to `size` rows to send as one job, plus the rows rejected locally while it was being filled. */
export interface Batch {
  /** 0-based position of the batch in the file: part of its Idempotency-Key. */
  number: number
  rows: ValidRow[]
  invalid: InvalidRow[]
}

/**
 * Batches of at most `size` valid rows, pulled lazily: the reader only advances when the consumer
 * asks for the next batch, so only the batch being filled is held here. The last batch may hold
 * only invalid rows (nothing to send).
 */
export async function* batches(source: AsyncIterable<SourceRow>, size: number): AsyncGenerator<Batch> {
  let number = 0
  let current: Batch = { number, rows: [], invalid: [] }
  for await (const row of source) {
    if (isInvalid(row)) current.invalid.push(row)
    else current.rows.push(row)
    if (current.rows.length >= size) {
      yield current
      current = { number: ++number, rows: [], invalid: [] }
    }
  }
  if (current.rows.length > 0 || current.invalid.length > 0) yield current
}

/** What identifies the file being imported: its absolute path, size and modification time. */
export interface FileIdentity {
  path: string
  size: number
  mtimeMs: number
}

export async function fileIdentity(path: string): Promise<FileIdentity> {
  const absolute = resolve(path)
  const info = await stat(absolute)
  return { path: absolute, size: info.size, mtimeMs: info.mtimeMs }
}

/**
 * The Idempotency-Key of a batch: the same file, resource, batch number and records give the same
 * key, so re-running an interrupted import replays the jobs already accepted instead of creating
 * their records twice; any change to the file gives new keys. Keys are kept by the server for
 * 24 hours (CONTRACT §7).
 */
export function jobKey(file: FileIdentity, resource: Resource, batch: Pick<Batch, 'number' | 'rows'>): string {
  const content = createHash('sha256')
  for (const row of batch.rows) content.update(`${row.line}\t${JSON.stringify(row.record)}\n`)
  const key = createHash('sha256')
    .update([file.path, file.size, file.mtimeMs, resource, batch.number, content.digest('hex')].join('\0'))
    .digest('hex')
  return `fleet-faults-import-${key}`
}
