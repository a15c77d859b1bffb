// Creating a fault: the rule its code matches decides its rule id, name, description and (ignore) status.
import type { FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import type { GroupWrite } from '../../db/group-commit.js'
import { type DB, toIso } from '../../db/schema.js'
import {
  completeIdempotencySync,
  pendingRecord,
  plainOutcomeRecord,
  type StoredOutcome,
  type StoredRecord,
  storedOutcome,
  storedRecordOf,
  writeRecorded,
} from '../../http/idempotency.js'
import { type FieldErrors, Problem, ValidationFailed } from '../../http/problem.js'
import { addFieldError, messages } from '../../http/validation.js'
import {
  createGuarded,
  type FaultRule,
  type FaultValues,
  faultOfRecord,
  faultRecordBody,
  insertFaultSync,
  lookupForFault,
  toFault,
} from './faults.repository.js'
import type { CreateFault, Fault } from './faults.schemas.js'
import type { KnownRules } from './known-rules.js'

const FAULTS_PATH = '/api/v1/faults'

export const faultLinks = (fault: Fault) => ({
  self: `${FAULTS_PATH}/${fault.id}`,
  vehicle: `/api/v1/vehicles/${fault.vehicle_id}`,
  fault_rule: fault.fault_rule_id === null ? null : `/api/v1/fault_rules/${fault.fault_rule_id}`,
})

export interface PreparedFault {
  values: FaultValues
  vehicleArchivedAt: Date | string | null
  /** The rule the code matched. */
  rule: FaultRule
}

const present = (text: string | null | undefined): text is string => typeof text === 'string' && text.trim() !== ''

/** The vehicle and the rule a new fault names, each undefined when the account has none (or it was not asked). */
export type FaultLookup = Pick<Awaited<ReturnType<typeof lookupForFault>>, 'vehicle' | 'rule'>

interface PrepareOptions {
  idempotencyKey?: string | null
  isSample?: boolean
  /** The creation time (ISO); a bulk batch gives its records one. */
  now?: string
}

/** What `input` asks to look up: its vehicle id and code, unless the schema already found them invalid. */
export function faultReferences(input: Partial<CreateFault>, errors: FieldErrors): { vehicleId?: number; code?: string } {
  return { vehicleId: errors.vehicle_id ? undefined : input.vehicle_id, code: errors.code ? undefined : input.code }
}

/** prepareFault's answer: the fault or its errors, and what is stored under the create's key. */
export type PrepareResult = (PreparedFault | { errors: FieldErrors }) & {
  /** The outcome stored under options.idempotencyKey, found by the same query (replay it before the errors). */
  stored: StoredRecord | undefined
}

/**
 * Checks what the schema cannot (the vehicle is the account's; the code matches a rule) and builds the
 * row. `errors` holds the schema's findings; a field already invalid is not checked again, and every
 * invalid field ends up in the returned errors at once. Shared by POST /faults and bulk jobs.
 */
export async function prepareFault(
  db: Kysely<DB>,
  accountId: number,
  input: Partial<CreateFault>,
  errors: FieldErrors,
  options: PrepareOptions = {},
): Promise<PrepareResult> {
  const { vehicleId, code } = faultReferences(input, errors)
  const key = options.idempotencyKey ?? null
  const found =
    vehicleId === undefined && code === undefined && key === null
      ? { vehicle: undefined, rule: undefined, stored: undefined }
      : await lookupForFault(db, accountId, vehicleId, code, key)
  return { ...buildFault(accountId, input, errors, found, options), stored: found.stored }
}

/**
 * prepareFault once its lookup is done: bulk jobs look up a whole batch's vehicles and rules at once
 * (`found` must hold what lookupForFault answers for faultReferences(input, errors)).
 */
export function buildFault(
  accountId: number,
  input: Partial<CreateFault>,
  errors: FieldErrors,
  { vehicle, rule }: FaultLookup,
  options: PrepareOptions = {},
): PreparedFault | { errors: FieldErrors } {
  const { vehicleId, code } = faultReferences(input, errors)
  if (vehicleId !== undefined && !vehicle) addFieldError(errors, 'vehicle_id', messages.mustExist)
  if (code !== undefined && !rule) addFieldError(errors, 'code', messages.noFaultRule)
  if (Object.keys(errors).length > 0 || !vehicle || !rule || code === undefined) return { errors }
  const values = faultValues(accountId, { ...input, vehicle_id: vehicle.id, code }, rule, options)
  return { vehicleArchivedAt: vehicle.archived_at, values, rule }
}

/** A new fault's row (but its id) from what was sent and the rule its code matched. */
export function faultValues(accountId: number, input: CreateFault, rule: FaultRule, options: PrepareOptions = {}): FaultValues {
  const now = options.now ?? new Date().toISOString()
  return {
    account_id: accountId,
    vehicle_id: input.vehicle_id,
    fault_rule_id: rule.id,
    code: input.code,
    count: input.count ?? 1,
    description: present(rule.description) ? rule.description : (input.description ?? null),
    external_id: input.external_id ?? null,
    // In UTC with milliseconds, as stored: a value already written so is kept as it is.
    last_occurred_at: input.last_occurred_at ? toIso(input.last_occurred_at) : now,
    name: present(rule.name) ? rule.name : (input.name ?? null),
    status: rule.priority_handling === 'ignore' ? 'ignored' : (input.status ?? 'open'),
    source: input.source ?? 'api',
    is_sample: options.isSample ? 1 : 0,
    idempotency_key: options.idempotencyKey ?? null,
    created_at: now,
    updated_at: now,
  }
}

/** What POST /faults answers: the fault it created, or the outcome stored under its Idempotency-Key. */
export type CreateOutcome = { created: Fault } | { replayed: StoredOutcome }

/** Where a create writes: the database, SQLite's group commit (undefined on PostgreSQL), the rules known. */
export interface FaultWriter {
  db: Kysely<DB>
  groupWrite?: GroupWrite
  rules: KnownRules
}

/** Creates record their outcome in the clear (faultRecordBody); this reads one back for a replay. */
function decodeRecord(body: string) {
  const fault = faultOfRecord(body)
  return { resource: fault, links: faultLinks(fault) }
}

/** Attempts of a create whose rule keeps changing under it before it answers 503. */
const CREATE_ATTEMPTS = 3

/**
 * POST /faults, exactly once per Idempotency-Key. `errors` are the schema's findings on `input`. A replay
 * answers before any validation error (the original succeeded, whatever has changed since).
 */
export async function createFault(
  writer: FaultWriter,
  request: FastifyRequest,
  input: CreateFault,
  errors: FieldErrors,
): Promise<CreateOutcome> {
  return writer.groupWrite
    ? createInGroup(writer.db, writer.groupWrite, request, input, errors)
    : createInOneStatement(writer, request, input, errors)
}

/** The lookup: what is stored under the key (replayed), the errors (422), or the fault prepared to write. */
async function lookUp(db: Kysely<DB>, request: FastifyRequest, input: CreateFault, errors: FieldErrors) {
  const prepared = await prepareFault(db, request.accountId, input, errors, { idempotencyKey: request.idempotency?.key ?? null })
  const replayed = await storedOutcome(db, request, prepared.stored, decodeRecord)
  if (replayed) return { replayed }
  if ('errors' in prepared) throw new ValidationFailed(prepared.errors)
  return prepared
}

/** SQLite: the lookup, then the fault and its outcome's record in the group commit of this moment's writes. */
async function createInGroup(
  db: Kysely<DB>,
  groupWrite: GroupWrite,
  request: FastifyRequest,
  input: CreateFault,
  errors: FieldErrors,
): Promise<CreateOutcome> {
  const found = await lookUp(db, request, input, errors)
  if ('replayed' in found) return found
  const { values, vehicleArchivedAt } = found
  const created = await groupWrite((run) => {
    const row = insertFaultSync(run, db, values)
    if (request.idempotency) {
      completeIdempotencySync(run, db, plainOutcomeRecord(request, `${FAULTS_PATH}/${row.id}`, faultRecordBody(row, vehicleArchivedAt)))
    }
    return toFault({ ...row, vehicle_archived_at: vehicleArchivedAt })
  })
  return { created }
}

/**
 * PostgreSQL: with the rule known (known-rules.ts), one statement writes the fault and its outcome's record,
 * checking the vehicle, the rule and the key as it does; otherwise, or when it wrote nothing, the lookup
 * first (which names what is invalid, or gives the rule as it is now).
 */
async function createInOneStatement(
  { db, rules }: FaultWriter,
  request: FastifyRequest,
  input: CreateFault,
  errors: FieldErrors,
): Promise<CreateOutcome> {
  const { accountId } = request
  const pending = pendingRecord(request)
  let known = Object.keys(errors).length === 0 ? rules.get(accountId, input.code) : undefined
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    let rule = known
    if (!rule) {
      const found = await lookUp(db, request, input, errors)
      if ('replayed' in found) return found
      rule = found.rule
      rules.set(accountId, input.code, rule)
    }
    const values = faultValues(accountId, input, rule, { idempotencyKey: pending?.key ?? null })
    const recordArgs = pending && { ...pending, location_prefix: `${FAULTS_PATH}/` }
    const guard = { rule_name: rule.name, rule_description: rule.description, priority_handling: rule.priority_handling }
    const row = await writeRecorded(pending !== null, () => createGuarded(db, { ...values, ...guard, ...recordArgs }))
    if (row.created_id !== null) return { created: toFault({ ...values, id: row.created_id, vehicle_archived_at: row.archived_at }) }
    const replayed = await storedOutcome(db, request, storedRecordOf(row), decodeRecord)
    if (replayed) return { replayed }
    if (storedRecordOf(row)) {
      known = rule // the stored outcome was past its lifetime and is gone: write again
      continue
    }
    if (!row.rule_ok) rules.forget(accountId, input.code)
    known = undefined
  }
  throw new Problem(503, 'The fault rule changed while the fault was being created; retry.', { headers: { 'Retry-After': '1' } })
}
