// Who works on which job: a worker claims a queued job (or one whose holder stopped heartbeating) under
// a lease — its id and a heartbeat — and at most ACCOUNT_CONCURRENCY jobs of one account run at once.
import { type ExpressionBuilder, type Kysely, sql } from 'kysely'
import type { Database } from '../../db/database.js'
import type { BulkOperation, BulkResource, DB } from '../../db/schema.js'

/**
 * A lease not renewed for this long belongs to a worker that died: another may take the job over.
 * Every batch (well under a second) renews it, so 10 s leaves a wide margin, and a restarted server
 * resumes a killed one's job 10 s later. Taking over early never applies a record twice (see the batch).
 */
export const LEASE_SECONDS = 10
/** Jobs of one account running at once, over all replicas; the rest wait queued. */
export const ACCOUNT_CONCURRENCY = 10
/** Failed batches and takeovers from dead workers a job survives; then it is failed instead of retried forever. */
export const MAX_ATTEMPTS = 5
/** A claim lost to a concurrent claimer of the same account is retried this often before giving up for the tick. */
const CLAIM_TRIES = 3

export interface ClaimedJob {
  id: number
  account_id: number
  resource: BulkResource
  operation: BulkOperation
  strict: boolean
  records_count: number
  attempts: number
}

type Jobs = ExpressionBuilder<DB & { j: DB['bulk_jobs'] }, 'j'>

const staleBefore = (now: Date) => new Date(now.getTime() - LEASE_SECONDS * 1000).toISOString()

/** Queued, or processing under a lease that was not renewed in time. */
const claimable = (eb: Jobs, stale: string) =>
  eb.or([
    eb('j.status', '=', 'queued'),
    eb.and([eb('j.status', '=', 'processing'), eb.or([eb('j.heartbeat_at', 'is', null), eb('j.heartbeat_at', '<', stale)])]),
  ])

/** Jobs of the account running under a live lease. */
function runningOf(db: Kysely<DB>, accountId: number, stale: string) {
  return db
    .selectFrom('bulk_jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', '=', 'processing')
    .where('heartbeat_at', '>=', stale)
}

/** The oldest claimable job whose account has room (the same count as runningOf, correlated). */
function candidates(db: Kysely<DB>, stale: string) {
  return db
    .selectFrom('bulk_jobs as j')
    .select(['j.id', 'j.account_id'])
    .where((eb) => claimable(eb, stale))
    .where((eb) =>
      eb(
        eb
          .selectFrom('bulk_jobs as r')
          .select((count) => count.fn.countAll<number>().as('n'))
          .where('r.status', '=', 'processing')
          .where('r.heartbeat_at', '>=', stale)
          .whereRef('r.account_id', '=', 'j.account_id'),
        '<',
        ACCOUNT_CONCURRENCY,
      ),
    )
    .orderBy('j.id')
    .limit(1)
}

/** Marks the job processing under `owner`'s lease; a takeover from a dead holder counts as an attempt. */
function take(db: Kysely<DB>, id: number | ReturnType<typeof candidates>, owner: string, now: Date) {
  const at = now.toISOString()
  return db
    .updateTable('bulk_jobs')
    .set({
      status: 'processing',
      lease_owner: owner,
      heartbeat_at: at,
      updated_at: at,
      started_at: sql<string>`coalesce(started_at, ${at})`,
      attempts: sql<number>`attempts + case when status = 'processing' then 1 else 0 end`,
    })
    .where('id', '=', typeof id === 'number' ? id : id.clearSelect().select('j.id'))
    .returning(['id', 'account_id', 'resource', 'operation', 'strict', 'records_count', 'attempts'])
    .executeTakeFirst()
}

const toClaimed = (row: Omit<ClaimedJob, 'strict'> & { strict: number }): ClaimedJob => ({ ...row, strict: Boolean(row.strict) })

/**
 * Claims one job for `owner`, or undefined when none may run now. SQLite has one writer, so one
 * statement picks and takes. PostgreSQL lets workers skip each other's candidates (FOR UPDATE SKIP
 * LOCKED) and serializes claims of one account on its row, so the cap holds against concurrent claims.
 */
export async function claimJob(database: Database, owner: string, now = new Date()): Promise<ClaimedJob | undefined> {
  const stale = staleBefore(now)
  if (database.engine === 'sqlite') {
    const row = await take(database.db, candidates(database.db, stale), owner, now)
    return row && toClaimed(row)
  }
  for (let attempt = 0; attempt < CLAIM_TRIES; attempt++) {
    const outcome = await database.db.transaction().execute(async (trx) => {
      const candidate = await candidates(trx, stale).forUpdate().skipLocked().executeTakeFirst()
      if (!candidate) return 'none' as const
      // NO KEY UPDATE: serializes claimers of this account without blocking inserts that reference it.
      await trx.selectFrom('accounts').select('id').where('id', '=', candidate.account_id).forNoKeyUpdate().execute()
      const running = await runningOf(trx, candidate.account_id, stale).executeTakeFirstOrThrow()
      if (Number(running.n) >= ACCOUNT_CONCURRENCY) return 'lost' as const
      return take(trx, candidate.id, owner, now)
    })
    if (outcome === 'none') return undefined
    if (outcome !== 'lost') return outcome && toClaimed(outcome)
  }
  return undefined
}

/** Hands `owner`'s unfinished jobs back to the queue (a clean shutdown): any worker may continue them at once. */
export async function releaseJobs(db: Kysely<DB>, owner: string): Promise<number> {
  const result = await db
    .updateTable('bulk_jobs')
    .set({ status: 'queued', lease_owner: null, heartbeat_at: null, updated_at: new Date().toISOString() })
    .where('lease_owner', '=', owner)
    .where('status', '=', 'processing')
    .executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** Counts a failed batch against the job; undefined when the lease is no longer `owner`'s. */
export async function recordFailure(db: Kysely<DB>, jobId: number, owner: string): Promise<number | undefined> {
  const row = await db
    .updateTable('bulk_jobs')
    .set({ attempts: sql<number>`attempts + 1`, updated_at: new Date().toISOString() })
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'processing')
    .returning('attempts')
    .executeTakeFirst()
  return row?.attempts
}

/** Gives up on a job that failed too often: the records not yet processed get no results. */
export async function failJob(db: Kysely<DB>, jobId: number, owner: string): Promise<void> {
  const now = new Date().toISOString()
  await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('bulk_jobs')
      .set({ status: 'failed', completed_at: now, updated_at: now })
      .where('id', '=', jobId)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'processing')
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) === 1) await trx.deleteFrom('bulk_job_records').where('job_id', '=', jobId).execute()
  })
}
