// The file of rejected rows: one JSON object a line, {line, index, record, errors}, written as jobs finish.
import { once } from 'node:events'
import { createWriteStream, type WriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { RowErrors } from './records.js'

export interface RejectedEntry {
  /** 1-based line of the row in the source file (where the record starts). */
  line: number
  /** The record's index in the bulk job it was sent in (results[].index); null when it was never sent. */
  index: number | null
  /** The bulk job that answered for it; null when it was never sent. */
  job: number | null
  record: unknown
  errors: RowErrors
}

export class RejectedFile {
  count = 0
  private failure: Error | undefined
  private constructor(
    readonly path: string,
    private readonly stream: WriteStream,
  ) {
    stream.on('error', (error) => {
      this.failure = error
    })
  }

  /** Creates (or empties) the file now, so an unwritable path fails before anything is sent. */
  static async open(path: string): Promise<RejectedFile> {
    const stream = createWriteStream(path, { flags: 'w' })
    await new Promise<void>((done, fail) => {
      stream.once('error', fail)
      stream.once('open', () => {
        stream.off('error', fail)
        done()
      })
    })
    return new RejectedFile(path, stream)
  }

  async write(entry: RejectedEntry): Promise<void> {
    if (this.failure) throw this.failure
    this.count++
    const { line, index, job, record, errors } = entry
    if (!this.stream.write(`${JSON.stringify({ line, index, job, record, errors })}\n`)) await once(this.stream, 'drain')
  }

  /** Flushes and closes; an empty file is removed, so a clean run leaves nothing behind. */
  async close(): Promise<boolean> {
    await new Promise<void>((done, fail) => this.stream.end((error?: Error | null) => (error ? fail(error) : done())))
    if (this.count > 0) return true
    await rm(this.path, { force: true })
    return false
  }
}
