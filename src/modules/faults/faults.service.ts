// Creating a fault: the rule its code matches decides its rule id, name, description and (ignore) status.
import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'
import type { StoredRecord } from '../../http/idempotency.js'
import type { FieldErrors } from '../../http/problem.js'
import { addFieldError, messages } from '../../http/validation.js'
import { type FaultValues, lookupForFault } from './faults.repository.js'
import type { CreateFault } from './faults.schemas.js'

export interface PreparedFault {
  values: FaultValues
  vehicleArchivedAt: Date | string | null
}

const present = (text: string | null | undefined): text is string => typeof text === 'string' && text.trim() !== ''

/** The vehicle and the rule a new fault names, each undefined when the account has none (or it was not asked). */
export type FaultLookup = Pick<Awaited<ReturnType<typeof lookupForFault>>, 'vehicle' | 'rule'>

interface PrepareOptions {
  idempotencyKey?: string | null
  isSample?: boolean
}

/** What `input` asks to look up: its vehicle id and code, unless the schema already found them invalid. */
export function faultReferences(input: Partial<CreateFault>, errors: FieldErrors): { vehicleId?: number; code?: string } {
  return { vehicleId: errors.vehicle_id ? undefined : input.vehicle_id, code: errors.code ? undefined : input.code }
}

/** prepareFault's answer: the fault or its errors, and what is stored under the create's key. */
export type PrepareResult = ((PreparedFault & { reservedId: number | null }) | { errors: FieldErrors }) & {
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
      ? { vehicle: undefined, rule: undefined, reservedId: null, stored: undefined }
      : await lookupForFault(db, accountId, vehicleId, code, key)
  const built = buildFault(accountId, input, errors, found, options)
  return 'errors' in built ? { ...built, stored: found.stored } : { ...built, reservedId: found.reservedId, stored: found.stored }
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

  const now = new Date().toISOString()
  return {
    vehicleArchivedAt: vehicle.archived_at,
    values: {
      account_id: accountId,
      vehicle_id: vehicle.id,
      fault_rule_id: rule.id,
      code,
      count: input.count ?? 1,
      description: present(rule.description) ? rule.description : (input.description ?? null),
      external_id: input.external_id ?? null,
      last_occurred_at: input.last_occurred_at ? new Date(input.last_occurred_at).toISOString() : now,
      name: present(rule.name) ? rule.name : (input.name ?? null),
      status: rule.priority_handling === 'ignore' ? 'ignored' : (input.status ?? 'open'),
      source: input.source ?? 'api',
      is_sample: options.isSample ? 1 : 0,
      idempotency_key: options.idempotencyKey ?? null,
      created_at: now,
      updated_at: now,
    },
  }
}
