// Applying records: each is checked exactly as its single endpoint checks a body (the same compiled
// validator, the same domain rules and messages) and answered with the status that endpoint would give.
import type { ErrorObject } from 'ajv'
import { sql, type Transaction } from 'kysely'
import type { Engine } from '../../db/database.js'
import { forUpdate } from '../../db/locking.js'
import type { DB } from '../../db/schema.js'
import type { FieldErrors } from '../../http/problem.js'
import { unknownAttributes } from '../../http/strict-handling.js'
import { messages, toFieldErrors, validatorCompiler } from '../../http/validation.js'
import type { NewFault } from '../faults/faults.repository.js'
import { CreateFault } from '../faults/faults.schemas.js'
import { buildFault, faultReferences } from '../faults/faults.service.js'
import { updateVehicle, vehiclesQuery } from '../vehicles/vehicles.repository.js'
import { CreateVehicle } from '../vehicles/vehicles.schemas.js'
import type { ClaimedJob } from './bulk.lease.js'
import { type Input, insertFaultIds, insertVehicleIds, lookupForFaults, type StoredRecord } from './bulk.repository.js'
import { type BulkResult, BulkVehicleUpdate } from './bulk.schemas.js'

type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors; final: boolean }

/** A body validator as the routes get it (src/app.ts sets validatorCompiler for every route). */
function bodyValidator<T>(schema: { type: 'object'; properties: Record<string, unknown> }) {
  const validate = validatorCompiler({ schema, httpPart: 'body' }) as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }
  /**
   * The schema's findings for one record. With Prefer: handling=strict, unknown attributes are reported
   * with them and nothing else is checked (`final`), as the strict-handling hook answers before the handler.
   */
  return (input: Input, strict: boolean): Checked<T> => {
    const unknown = strict ? unknownAttributes(input, schema) : []
    const valid = validate(input)
    const errors = valid ? {} : toFieldErrors(validate.errors ?? [])
    for (const key of unknown) errors[key] = [messages.unknownAttribute]
    if (Object.keys(errors).length === 0) return { ok: true, value: input as T }
    return { ok: false, errors, final: unknown.length > 0 }
  }
}

const checkFault = bodyValidator<CreateFault>(CreateFault)
const checkVehicle = bodyValidator<CreateVehicle>(CreateVehicle)
const checkVehicleUpdate = bodyValidator<BulkVehicleUpdate>(BulkVehicleUpdate)

const invalid = (index: number, errors: FieldErrors): BulkResult => ({ index, status: 422, errors })

interface ValidRecord<T> {
  index: number
  value: T
}

/** The valid records in one multi-row insert, each answered 201 with its row's id (`insert` gives them in order). */
async function insertValid<T>(valid: readonly ValidRecord<T>[], insert: (values: T[]) => Promise<number[]>): Promise<BulkResult[]> {
  if (valid.length === 0) return []
  const ids = await insert(valid.map((item) => item.value))
  if (ids.length !== valid.length) throw new Error(`inserted ${ids.length} rows for ${valid.length} records`)
  return valid.map(({ index }, position) => ({ index, status: 201, id: ids[position] as number }))
}

/**
 * POST /faults for each record: the schema, then prepareFault's checks and row (buildFault), with the
 * vehicles and rules of the whole batch looked up in two queries instead of one round trip per record
 * (measured: the per-record lookups were half the worker's time on SQLite, most of it on PostgreSQL).
 * The valid records go in one insert.
 */
async function createFaults(
  trx: Transaction<DB>,
  engine: Engine,
  job: ClaimedJob,
  records: readonly StoredRecord[],
): Promise<BulkResult[]> {
  const results: BulkResult[] = []
  const pending: { index: number; input: Partial<CreateFault>; errors: FieldErrors }[] = []
  for (const record of records) {
    const { input } = record
    const checked = checkFault(input, job.strict)
    if (!checked.ok && checked.final) results.push(invalid(record.index, checked.errors))
    else pending.push({ index: record.index, input: input as Partial<CreateFault>, errors: checked.ok ? {} : checked.errors })
  }
  const references = pending.map((item) => faultReferences(item.input, item.errors))
  const { vehicles, rules } = await lookupForFaults(
    trx,
    job.account_id,
    references.flatMap((ref) => (ref.vehicleId === undefined ? [] : [ref.vehicleId])),
    references.flatMap((ref) => (ref.code === undefined ? [] : [ref.code])),
  )
  const valid: ValidRecord<NewFault>[] = []
  const now = new Date().toISOString()
  pending.forEach((item, position) => {
    const { vehicleId, code } = references[position] ?? {}
    const found = {
      vehicle: vehicleId === undefined ? undefined : vehicles.get(vehicleId),
      rule: code === undefined ? undefined : rules.get(code),
    }
    const prepared = buildFault(job.account_id, item.input, item.errors, found, { now })
    if ('errors' in prepared) results.push(invalid(item.index, prepared.errors))
    else valid.push({ index: item.index, value: prepared.values })
  })
  results.push(...(await insertValid(valid, (values) => insertFaultIds(trx, engine, values))))
  return results
}

async function takenNames(trx: Transaction<DB>, accountId: number, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set()
  const rows = await trx.selectFrom('vehicles').select('name').where('account_id', '=', accountId).where('name', 'in', names).execute()
  return new Set(rows.map((row) => row.name))
}

/** POST /vehicles for each record: schema, then the name unique in the account (earlier records included). */
async function createVehicles(trx: Transaction<DB>, job: ClaimedJob, records: readonly StoredRecord[]): Promise<BulkResult[]> {
  const results: BulkResult[] = []
  const checked = records.map((record) => ({ index: record.index, checked: checkVehicle(record.input, job.strict) }))
  const names = checked.flatMap((item) => (item.checked.ok ? [item.checked.value.name] : []))
  const taken = await takenNames(trx, job.account_id, names)
  const valid: ValidRecord<CreateVehicle>[] = []
  for (const { index, checked: outcome } of checked) {
    if (!outcome.ok) results.push(invalid(index, outcome.errors))
    else if (taken.has(outcome.value.name)) results.push(invalid(index, { name: [messages.taken] }))
    else {
      taken.add(outcome.value.name)
      valid.push({ index, value: outcome.value })
    }
  }
  results.push(...(await insertValid(valid, (inputs) => insertVehicleIds(trx, job.account_id, inputs))))
  return results
}

/** PATCH /vehicles/{id} for each record, in order: schema (422), the vehicle (404), its new name free (422). */
async function updateVehicles(
  trx: Transaction<DB>,
  engine: Engine,
  job: ClaimedJob,
  records: readonly StoredRecord[],
): Promise<BulkResult[]> {
  const results: BulkResult[] = []
  for (const record of records) {
    const checked = checkVehicleUpdate(record.input, job.strict)
    if (!checked.ok) {
      results.push(invalid(record.index, checked.errors))
      continue
    }
    const { id, archived, ...changes } = checked.value
    const current = await forUpdate(vehiclesQuery(trx, job.account_id).where('id', '=', id), engine).executeTakeFirst()
    if (!current) {
      results.push({ index: record.index, status: 404, errors: { id: [messages.mustExist] } })
      continue
    }
    if (changes.name !== undefined && (await nameTakenByAnother(trx, job.account_id, changes.name, id))) {
      results.push(invalid(record.index, { name: [messages.taken] }))
      continue
    }
    // As PATCH: archiving keeps an earlier archived_at, restoring clears it.
    const archivedAt = archived === undefined ? undefined : archived ? (current.archived_at ?? new Date().toISOString()) : null
    await updateVehicle(trx, job.account_id, id, {
      ...changes,
      ...(archivedAt === undefined ? {} : { archived_at: archivedAt instanceof Date ? archivedAt.toISOString() : archivedAt }),
    })
    results.push({ index: record.index, status: 204, id })
  }
  return results
}

async function nameTakenByAnother(trx: Transaction<DB>, accountId: number, name: string, id: number): Promise<boolean> {
  const row = await trx
    .selectFrom('vehicles')
    .select(sql<number>`1`.as('taken'))
    .where('account_id', '=', accountId)
    .where('name', '=', name)
    .where('id', '<>', id)
    .executeTakeFirst()
  return row !== undefined
}

/** The results of one batch of the job's records, by index; the valid records are applied in `trx`. */
export async function applyRecords(
  trx: Transaction<DB>,
  engine: Engine,
  job: ClaimedJob,
  records: readonly StoredRecord[],
): Promise<BulkResult[]> {
  const results =
    job.resource === 'fault'
      ? await createFaults(trx, engine, job, records)
      : job.operation === 'create'
        ? await createVehicles(trx, job, records)
        : await updateVehicles(trx, engine, job, records)
  return results.sort((a, b) => a.index - b.index)
}
