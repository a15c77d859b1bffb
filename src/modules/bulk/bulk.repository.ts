// Bulk job rows: the job, its stored records and its results, always within one account; the API shapes.
import type { Kysely, Selectable, Transaction } from 'kysely'
import type { Engine } from '../../db/database.js'
import { rowsInsert } from '../../db/prepared.js'
import type { BulkJobsTable, BulkOperation, BulkResource, DB } from '../../db/schema.js'
import { toIso } from '../../db/schema.js'
import { faultValueColumns, type NewFault } from '../faults/faults.repository.js'
import type { FaultLookup } from '../faults/faults.service.js'
import { vehicleRow } from '../vehicles/vehicles.repository.js'
import type { CreateVehicle } from '../vehicles/vehicles.schemas.js'
import type { BulkJob, BulkJobSummary, BulkResult } from './bulk.schemas.js'

/** Jobs stored a record a row (before chunks) are taken this many rows a batch, as they were then. */
const ROWS_A_BATCH = 100
/** Rows a multi-row insert of chunks writes at once: 3 parameters each, far below either engine's limit. */
const CHUNK_INSERT_ROWS = 1000

/** A submitted record as stored, parsed. */
export type Input = Record<string, unknown>
export interface StoredRecord {
  index: number
  input: Input
}

export const jobColumns = [
  'id',
  'account_id',
  'resource',
  'operation',
  'status',
  'strict',
  'records_count',
  'succeeded_count',
  'failed_count',
  'created_at',
  'started_at',
  'completed_at',
] as const

export type JobRow = Pick<Selectable<BulkJobsTable>, (typeof jobColumns)[number]>

export const jobLinks = (job: { id: number }) => ({ self: `/api/v1/bulk_api_jobs/${job.id}` })

export const isUnfinished = (job: { status: string }) => job.status === 'queued' || job.status === 'processing'

export function toJobSummary(row: JobRow): BulkJobSummary {
  return {
    id: row.id,
    resource: row.resource,
    operation: row.operation,
    status: row.status,
    records_count: row.records_count,
    succeeded_count: row.succeeded_count,
    failed_count: row.failed_count,
    created_at: toIso(row.created_at),
    started_at: toIso(row.started_at),
    completed_at: toIso(row.completed_at),
  }
}

export function toJob(row: JobRow, results: BulkResult[]): BulkJob {
  return { ...toJobSummary(row), results }
}

export function jobsQuery(db: Kysely<DB>, accountId: number) {
  return db.selectFrom('bulk_jobs').select(jobColumns).where('account_id', '=', accountId)
}

export interface NewJob {
  resource: BulkResource
  operation: BulkOperation
  strict: boolean
  records: readonly object[]
}

/**
 * The job, queued, with its records stored a batch to a row: a JSON array of `batchSize` records
 * (BULK_BATCH_SIZE) under the index of its first, which the worker applies as one batch. A row per record
 * measured twice the storage work (insert, read, delete) of the chunks, a third of a bulk ingest on SQLite.
 */
export async function insertJob(trx: Transaction<DB>, accountId: number, job: NewJob, batchSize: number): Promise<JobRow> {
  const now = new Date().toISOString()
  const row = await trx
    .insertInto('bulk_jobs')
    .values({
      account_id: accountId,
      resource: job.resource,
      operation: job.operation,
      status: 'queued',
      strict: job.strict ? 1 : 0,
      records_count: job.records.length,
      created_at: now,
      updated_at: now,
    })
    .returning(jobColumns)
    .executeTakeFirstOrThrow()
  const chunks: { job_id: number; index: number; data: string }[] = []
  for (let index = 0; index < job.records.length; index += batchSize) {
    chunks.push({ job_id: row.id, index, data: JSON.stringify(job.records.slice(index, index + batchSize)) })
  }
  for (let start = 0; start < chunks.length; start += CHUNK_INSERT_ROWS) {
    await trx
      .insertInto('bulk_job_records')
      .values(chunks.slice(start, start + CHUNK_INSERT_ROWS))
      .execute()
  }
  return row
}

/**
 * The records of the job's next batch, from `cursor`: the chunk stored there. A job stored before chunks,
 * a record a row (an object, not an array), gives up to ROWS_A_BATCH rows instead.
 */
export async function nextRecords(trx: Transaction<DB>, jobId: number, cursor: number): Promise<StoredRecord[]> {
  const after = trx
    .selectFrom('bulk_job_records')
    .select(['index', 'data'])
    .where('job_id', '=', jobId)
    .where('index', '>=', cursor)
    .orderBy('index')
  const [first] = await after.limit(1).execute()
  if (!first) return []
  if (!first.data.startsWith('[')) {
    const rows = await after.limit(ROWS_A_BATCH).execute()
    return rows.map((row) => ({ index: row.index, input: JSON.parse(row.data) as Input }))
  }
  if (first.index !== cursor) throw new Error(`bulk job ${jobId}: the chunk after its cursor ${cursor} starts at ${first.index}`)
  return (JSON.parse(first.data) as Input[]).map((input, offset) => ({ index: cursor + offset, input }))
}

export async function findJob(db: Kysely<DB>, accountId: number, id: number): Promise<JobRow | undefined> {
  return jobsQuery(db, accountId).where('id', '=', id).executeTakeFirst()
}

/** The results recorded so far, by index. */
export async function findResults(db: Kysely<DB>, jobId: number): Promise<BulkResult[]> {
  const batches = await db.selectFrom('bulk_job_result_batches').select('results').where('job_id', '=', jobId).orderBy('index').execute()
  return batches.flatMap((batch) => JSON.parse(batch.results) as BulkResult[])
}

/** A job of the account with its results, or undefined (another account's job included). */
export async function loadJob(db: Kysely<DB>, accountId: number, id: number): Promise<BulkJob | undefined> {
  const row = await findJob(db, accountId, id)
  return row && toJob(row, await findResults(db, row.id))
}

/** The results of the batch whose first record is `first`, in one row. */
export async function insertResults(trx: Transaction<DB>, jobId: number, first: number, results: readonly BulkResult[]): Promise<void> {
  if (results.length === 0) return
  await trx
    .insertInto('bulk_job_result_batches')
    .values({ job_id: jobId, index: first, results: JSON.stringify(results) })
    .execute()
}

/** Faults in one statement, as insertFaults writes them. */
const insertFaultRows = rowsInsert<DB, never>((db, rows) => db.insertInto('faults').values(rows as never), faultValueColumns)
/** The same, returning only what a result needs: the ids. */
const insertFaultRowsReturningIds = rowsInsert<DB, { id: number }>(
  (db, rows) =>
    db
      .insertInto('faults')
      .values(rows as never)
      .returning('id'),
  faultValueColumns,
)

/** Ids RETURNING gave, ascending: VALUES order on both engines. */
const ascendingIds = (rows: readonly { id: number }[]) => rows.map((row) => Number(row.id)).sort((a, b) => a - b)

/**
 * Faults in one statement; their ids, ascending, which is VALUES order on both engines. PostgreSQL returns
 * them. SQLite is not asked to: RETURNING measured 0.8 µs a row there, a sixth of the insert. AUTOINCREMENT
 * gives each row the next id after the largest the table ever held, so one statement's rows run up to its
 * last insert id. That rests on the schema: no trigger inserts faults (a test pins it), and nothing lets a
 * row be skipped (no ON CONFLICT, no unique column), which the count of rows inserted would show anyway.
 */
export async function insertFaultIds(trx: Transaction<DB>, engine: Engine, values: readonly NewFault[]): Promise<number[]> {
  const rows = values as unknown as Record<string, unknown>[]
  if (engine === 'postgres') return ascendingIds((await insertFaultRowsReturningIds(trx, rows)).rows)
  const { insertId, numAffectedRows } = await insertFaultRows(trx, rows)
  if (Number(numAffectedRows) !== values.length || insertId === undefined)
    throw new Error(`inserted ${numAffectedRows} faults for ${values.length} records`)
  const first = Number(insertId) - values.length + 1
  return Array.from({ length: values.length }, (_, offset) => first + offset)
}

/** Vehicles in one statement, as insertVehicle writes one; their ids, ascending. The caller has made sure the names are free. */
export async function insertVehicleIds(trx: Transaction<DB>, accountId: number, inputs: readonly CreateVehicle[]): Promise<number[]> {
  const now = new Date().toISOString()
  return ascendingIds(
    await trx
      .insertInto('vehicles')
      .values(inputs.map((input) => vehicleRow(accountId, input, now)))
      .returning('id')
      .execute(),
  )
}

/**
 * lookupForFault (src/modules/faults) for a whole batch, in two queries: the account's vehicles among
 * `vehicleIds` and its rules among `codes`, each in the shape lookupForFault gives, by id and by code.
 */
export async function lookupForFaults(trx: Transaction<DB>, accountId: number, vehicleIds: readonly number[], codes: readonly string[]) {
  const vehicleRows =
    vehicleIds.length === 0
      ? []
      : await trx
          .selectFrom('vehicles')
          .select(['id', 'archived_at'])
          .where('account_id', '=', accountId)
          .where('id', 'in', [...new Set(vehicleIds)])
          .execute()
  const ruleRows =
    codes.length === 0
      ? []
      : await trx
          .selectFrom('fault_rules')
          .select(['id', 'code', 'name', 'description', 'priority_handling'])
          .where('account_id', '=', accountId)
          .where('code', 'in', [...new Set(codes)])
          .execute()
  const vehicles: Map<number, NonNullable<FaultLookup['vehicle']>> = new Map(
    vehicleRows.map((row) => [Number(row.id), { id: Number(row.id), archived_at: row.archived_at }]),
  )
  const rules: Map<string, NonNullable<FaultLookup['rule']>> = new Map(
    ruleRows.map(({ code, id, ...rule }) => [code, { id: Number(id), ...rule }]),
  )
  return { vehicles, rules }
}

/** Jobs finished before `before`, a chunk at a time (their records and results go with them); returns how many. */
export async function purgeFinishedJobs(db: Kysely<DB>, before: Date, chunk = 100): Promise<number> {
  let total = 0
  for (;;) {
    const ids = await db
      .selectFrom('bulk_jobs')
      .select('id')
      .where('completed_at', '<', before.toISOString())
      .where('status', 'in', ['completed', 'failed'])
      .limit(chunk)
      .execute()
    if (ids.length === 0) return total
    const result = await db
      .deleteFrom('bulk_jobs')
      .where(
        'id',
        'in',
        ids.map((row) => row.id),
      )
      .executeTakeFirst()
    total += Number(result.numDeletedRows)
    if (ids.length < chunk) return total
  }
}
