// The worker inside every server process: claims jobs, runs them a batch at a time, purges old ones.
// Polls with backoff while idle, is kicked when this process accepts a job, and stops cleanly on close.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { setImmediate as yieldToIo } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { Database, Engine } from '../../db/database.js'
import { type ClaimedJob, claimJob, failJob, MAX_ATTEMPTS, recordFailure, releaseJobs } from './bulk.lease.js'
import { purgeFinishedJobs } from './bulk.repository.js'
import { LeaseLost, processBatch } from './bulk.service.js'

/**
 * Jobs one process runs at once. PostgreSQL: a few, whose batches share the pool of 10 with the requests
 * being served; more replicas run more. SQLite: one. Its single connection runs one transaction at a
 * time anyway; jobs taking turns batch by batch measured a tenth more CPU than jobs one after the other,
 * and a request could wait behind four batches instead of one.
 */
const WORKER_CONCURRENCY: Record<Engine, number> = { sqlite: 1, postgres: 4 }
/** Idle polling starts quick (a job another replica accepted is picked up soon) and slows down to this. */
const IDLE_POLL_MIN_MS = 250
const IDLE_POLL_MAX_MS = 2000
/** A failed batch is retried after this many ms times its attempt number. */
const RETRY_DELAY_MS = 500
/** How often finished jobs past their retention are purged. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000

export interface BulkWorkerOptions {
  database: Database
  log: FastifyBaseLogger
  retentionDays: number
}

export interface BulkWorker {
  /** This worker's lease owner id. */
  readonly id: string
  start(): void
  /** A job was accepted here: look for work now rather than at the next poll. */
  kick(): void
  /** Stops claiming, lets running batches commit, and hands unfinished jobs back to the queue. */
  stop(): Promise<void>
}

export function createBulkWorker({ database, log, retentionDays }: BulkWorkerOptions): BulkWorker {
  const concurrency = WORKER_CONCURRENCY[database.engine]
  const id = `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(4).toString('hex')}`
  const running = new Set<Promise<void>>()
  let stopped = true
  let timer: NodeJS.Timeout | undefined
  let idleDelay = IDLE_POLL_MIN_MS
  let ticking: Promise<void> | undefined
  let again = false
  let lastPurge = 0

  function schedule(delay: number): void {
    clearTimeout(timer)
    if (stopped) return
    timer = setTimeout(tick, delay)
    timer.unref()
  }

  /** Claims while there is room and work; one tick at a time, another one right after if kicked meanwhile. */
  function tick(): void {
    if (ticking) {
      again = true
      return
    }
    ticking = claimWhileRoom()
      .catch((error: unknown) => {
        log.warn({ err: error }, 'bulk worker could not claim jobs')
        return false
      })
      .then((found) => {
        ticking = undefined
        if (again) {
          again = false
          idleDelay = IDLE_POLL_MIN_MS
          return schedule(0)
        }
        idleDelay = found ? IDLE_POLL_MIN_MS : Math.min(idleDelay * 2, IDLE_POLL_MAX_MS)
        schedule(idleDelay)
      })
  }

  async function claimWhileRoom(): Promise<boolean> {
    await purgeIfDue()
    let found = false
    while (!stopped && running.size < concurrency) {
      const job = await claimJob(database, id)
      if (!job) break
      found = true
      const run = runJob(job).finally(() => {
        running.delete(run)
        if (!stopped) tick()
      })
      running.add(run)
    }
    return found || running.size >= concurrency
  }

  async function purgeIfDue(): Promise<void> {
    if (Date.now() - lastPurge < PURGE_INTERVAL_MS) return
    lastPurge = Date.now()
    const purged = await purgeFinishedJobs(database.db, new Date(Date.now() - retentionDays * 86_400_000))
    if (purged > 0) log.info({ purged }, 'purged bulk jobs past their retention')
  }

  async function runJob(job: ClaimedJob): Promise<void> {
    try {
      if (job.attempts >= MAX_ATTEMPTS) return await giveUp(job)
      while (!stopped) {
        try {
          if (await processBatch(database, job, id)) return
        } catch (error) {
          if (error instanceof LeaseLost) return
          log.error({ err: error, job: job.id }, 'bulk job batch failed')
          const attempts = await recordFailure(database.db, job.id, id)
          if (attempts === undefined) return
          if (attempts >= MAX_ATTEMPTS) return await giveUp(job)
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempts).unref())
        }
        await yieldToIo() // let waiting requests have the connection between batches
      }
    } catch (error) {
      // The database failed even to record the failure: the lease expires and another worker resumes.
      log.error({ err: error, job: job.id }, 'bulk job stopped')
    }
  }

  async function giveUp(job: ClaimedJob): Promise<void> {
    log.error({ job: job.id }, `bulk job failed ${MAX_ATTEMPTS} times; giving up`)
    await failJob(database.db, job.id, id)
  }

  return {
    id,
    start() {
      if (!stopped) return
      stopped = false
      schedule(0)
    },
    kick() {
      if (!stopped) tick()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await ticking
      await Promise.all(running)
      await releaseJobs(database.db, id).catch((error: unknown) => log.warn({ err: error }, 'bulk worker could not release its jobs'))
    },
  }
}
