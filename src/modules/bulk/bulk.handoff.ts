// Records this process accepted, handed to its own worker in memory: a batch then skips reading back and
// parsing the chunk just stored. The stored chunks stay the durable copy, and the one a batch reads when
// the job was accepted by another replica, fell out of this room, or was restarted, and after a failure.
import type { Input, StoredRecord } from './bulk.repository.js'

export interface RecordHandoff {
  /** Keeps a job's records as they were stored, making room by forgetting the longest-kept jobs. */
  put(jobId: number, records: readonly object[]): void
  /** The records of the batch from `cursor`, the same as the chunk stored there; undefined when not kept. */
  take(jobId: number, cursor: number): StoredRecord[] | undefined
  /**
   * Forgets the job: it completed, or a batch failed. Validation completes records in place (defaults,
   * unknown attributes removed), so a batch run again must read the stored records.
   */
  drop(jobId: number): void
}

/**
 * At most `room` records kept; `batchSize` is the size of the chunks insertJob stores, so that a batch
 * taken here is the chunk at its cursor. Jobs accepted elsewhere are never taken here and leave as newer
 * ones come in.
 */
export function recordHandoff(room: number, batchSize: number): RecordHandoff {
  const jobs = new Map<number, readonly object[]>()
  let held = 0
  const drop = (jobId: number) => {
    const records = jobs.get(jobId)
    if (!records) return
    jobs.delete(jobId)
    held -= records.length
  }
  return {
    put(jobId, records) {
      if (records.length > room) return
      for (const kept of jobs.keys()) {
        if (held + records.length <= room) break
        drop(kept)
      }
      jobs.set(jobId, records)
      held += records.length
    },
    take(jobId, cursor) {
      const records = jobs.get(jobId)
      if (!records || cursor >= records.length) return undefined
      return records.slice(cursor, cursor + batchSize).map((input, offset) => ({ index: cursor + offset, input: input as Input }))
    },
    drop,
  }
}
