// One batch of a job, applied exactly once: its records, their results and the job's cursor commit
// together in one transaction, which first proves the lease is still this worker's.
import { sql } from 'kysely'
import type { Database } from '../../db/database.js'
import type { ClaimedJob } from './bulk.lease.js'
import { applyRecords } from './bulk.records.js'
import { insertResults, nextRecords } from './bulk.repository.js'

/** The job is no longer this worker's: another took it over, or it finished or failed meanwhile. */
export class LeaseLost extends Error {
  constructor(jobId: number) {
    super(`the lease on bulk job ${jobId} was lost`)
  }
}

/**
 * Applies the next batch of the job: the records stored at its cursor (`processed_count`), their results,
 * the cursor moved past them. The first statement renews the heartbeat on the job row, matching only
 * while `owner` holds the lease: on PostgreSQL it also locks the row until commit, so a worker that took
 * the job over waits and then finds the lease gone; SQLite has one writer. Records applied are never
 * applied again: the cursor moves in the same commit (and a batch's results are keyed by job and first index).
 * Resolves true when the job is complete.
 */
export async function processBatch(database: Database, job: ClaimedJob, owner: string): Promise<boolean> {
  return database.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString()
    const current = await trx
      .updateTable('bulk_jobs')
      .set({ heartbeat_at: now, updated_at: now })
      .where('id', '=', job.id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'processing')
      .returning(['processed_count', 'records_count'])
      .executeTakeFirst()
    if (!current) throw new LeaseLost(job.id)
    const cursor = current.processed_count
    const records = await nextRecords(trx, job.id, cursor)
    if (records.length === 0) throw new Error(`bulk job ${job.id} has no stored records after index ${cursor}`)
    const results = await applyRecords(trx, database.engine, job, records)
    await insertResults(trx, job.id, cursor, results)
    const succeeded = results.filter((result) => result.status < 300).length
    const processed = cursor + records.length
    const done = processed >= current.records_count
    // The records served their purpose; the results stay for the retention period.
    if (done) await trx.deleteFrom('bulk_job_records').where('job_id', '=', job.id).execute()
    await trx
      .updateTable('bulk_jobs')
      .set({
        processed_count: processed,
        succeeded_count: sql<number>`succeeded_count + ${succeeded}`,
        failed_count: sql<number>`failed_count + ${results.length - succeeded}`,
        // Stamped when the last batch's work is done, not when it began: the moment the job finished.
        ...(done ? { status: 'completed' as const, completed_at: new Date().toISOString() } : {}),
      })
      .where('id', '=', job.id)
      .execute()
    return done
  })
}
