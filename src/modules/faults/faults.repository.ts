// Fault rows joined with their vehicle (for vehicle_archived_at), always within one account.
import { type Insertable, type Kysely, PostgresAdapter, sql, type Transaction } from 'kysely'
import type { RunSync } from '../../db/group-commit.js'
import { type Arg, preparedQuery } from '../../db/prepared.js'
import { type DB, type FaultsTable, type PriorityHandling, toIso } from '../../db/schema.js'
import {
  type OutcomeRecord,
  type RecordArgs,
  recordArgs,
  storedRecordColumns,
  storedRecordOf,
  withOutcomeRecord,
} from '../../http/idempotency.js'
import type { Fault, UpdateFault } from './faults.schemas.js'

/** The columns of a fault row as stored (vehicle_archived_at comes from its vehicle). */
export const FAULT_COLUMNS = [
  'id',
  'created_at',
  'updated_at',
  'account_id',
  'vehicle_id',
  'code',
  'count',
  'description',
  'external_id',
  'last_occurred_at',
  'name',
  'status',
  'source',
  'fault_rule_id',
  'is_sample',
  'idempotency_key',
] as const
const faultColumns = FAULT_COLUMNS.map((column) => `faults.${column}` as const)

export type FaultRow = Omit<Fault, 'created_at' | 'updated_at' | 'last_occurred_at' | 'vehicle_archived_at' | 'is_sample'> & {
  created_at: Date | string
  updated_at: Date | string
  last_occurred_at: Date | string
  vehicle_archived_at: Date | string | null
  is_sample: number | boolean
}

export function toFault(row: FaultRow): Fault {
  return {
    id: row.id,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    account_id: row.account_id,
    vehicle_id: row.vehicle_id,
    code: row.code,
    count: row.count,
    description: row.description,
    external_id: row.external_id,
    last_occurred_at: toIso(row.last_occurred_at),
    name: row.name,
    status: row.status,
    source: row.source,
    vehicle_archived_at: toIso(row.vehicle_archived_at),
    fault_rule_id: row.fault_rule_id,
    is_sample: Boolean(row.is_sample),
    idempotency_key: row.idempotency_key,
  }
}

/** The account's faults with their vehicle's archived_at (a subquery, not a join: counting a list skips it). */
export function faultsQuery(db: Kysely<DB>, accountId: number) {
  return db
    .selectFrom('faults')
    .select(faultColumns)
    .select((eb) =>
      eb.selectFrom('vehicles').select('vehicles.archived_at').whereRef('vehicles.id', '=', 'faults.vehicle_id').as('vehicle_archived_at'),
    )
    .where('faults.account_id', '=', accountId)
}

const findFaultQuery = preparedQuery<DB, { accountId: number; id: number }, FaultRow>((db, arg) =>
  faultsQuery(db, arg('accountId')).where('faults.id', '=', arg('id')),
)

export async function findFault(db: Kysely<DB>, accountId: number, id: number): Promise<FaultRow | undefined> {
  return findFaultQuery.first(db, { accountId, id })
}

/**
 * The vehicle (if it is the account's) and the rule a code matches (if the account has one), in one round
 * trip; on PostgreSQL also the new fault's id, taken from its sequence, so that the fault is known before
 * it is written (an id not used, as after a validation error, is a gap as after any rollback).
 */
const lookupQuery = preparedQuery<DB, { accountId: number; vehicleId: number; code: string; idempotencyKey: string }, LookupRow>(
  (db, arg) =>
    db.selectNoFrom((eb) => {
      const vehicle = () => eb.selectFrom('vehicles').where('account_id', '=', arg('accountId')).where('id', '=', arg('vehicleId'))
      const rule = () => eb.selectFrom('fault_rules').where('account_id', '=', arg('accountId')).where('code', '=', arg('code'))
      const reserved =
        db.getExecutor().adapter instanceof PostgresAdapter
          ? sql<number>`nextval(pg_get_serial_sequence('faults', 'id'))`
          : sql<number | null>`null`
      return [
        vehicle().select('id').as('vehicle_id'),
        vehicle().select('archived_at').as('archived_at'),
        rule().select('id').as('rule_id'),
        rule().select('name').as('rule_name'),
        rule().select('description').as('rule_description'),
        rule().select('priority_handling').as('priority_handling'),
        reserved.as('reserved_id'),
        ...storedRecordColumns(eb, arg('accountId'), arg('idempotencyKey')),
      ]
    }),
)
interface LookupRow {
  vehicle_id: number | null
  archived_at: Date | string | null
  rule_id: number | null
  rule_name: string | null
  rule_description: string | null
  priority_handling: PriorityHandling | null
  reserved_id: number | null
  stored_fingerprint: string | null
  stored_response_body: string | null
  stored_location: string | null
  stored_expires_at: Date | string | null
}

/**
 * What a new fault needs to know: its vehicle and its rule, each undefined when the account has none; and
 * what is stored under the create's Idempotency-Key, if it has one.
 */
export async function lookupForFault(
  db: Kysely<DB>,
  accountId: number,
  vehicleId: number | undefined,
  code: string | undefined,
  idempotencyKey: string | null = null,
) {
  // No key is empty (keys have 1 to 255 characters): '' finds no record.
  const row = await lookupQuery.first(db, { accountId, vehicleId: vehicleId ?? 0, code: code ?? '', idempotencyKey: idempotencyKey ?? '' })
  if (!row) throw new Error('the lookup returned no row')
  return {
    vehicle: vehicleId !== undefined && row.vehicle_id !== null ? { id: Number(row.vehicle_id), archived_at: row.archived_at } : undefined,
    rule:
      code !== undefined && row.rule_id !== null
        ? { id: Number(row.rule_id), name: row.rule_name, description: row.rule_description, priority_handling: row.priority_handling }
        : undefined,
    /** The id the new fault is to have (PostgreSQL); null: the insert assigns it (SQLite). */
    reservedId: row.reserved_id === null ? null : Number(row.reserved_id),
    stored: storedRecordOf(row),
  }
}

export type NewFault = Insertable<FaultsTable>

export async function insertFaults(db: Kysely<DB>, values: NewFault[]) {
  return db.insertInto('faults').values(values).returning(FAULT_COLUMNS).execute()
}

/** Every column of a new fault but its id: what prepareFault builds. */
export type FaultValues = { [K in Exclude<keyof NewFault, 'id'>]-?: Exclude<NewFault[K], undefined> }
const faultValueColumns = [...FAULT_COLUMNS.filter((column) => column !== 'id')] as (keyof FaultValues)[]

/** The fault's columns filled from the same-named arguments of a prepared query. */
const valuesOf = <A extends FaultValues>(arg: Arg<A>) =>
  Object.fromEntries(faultValueColumns.map((column) => [column, arg(column)])) as unknown as FaultValues

const insertFaultQuery = preparedQuery<DB, FaultValues, Awaited<ReturnType<typeof insertFaults>>[number]>((db, arg) =>
  db.insertInto('faults').values(valuesOf(arg)).returning(FAULT_COLUMNS),
)

/** One fault (POST /faults on SQLite) in a group write: the same insert as insertFaults, compiled once. */
export function insertFaultSync(run: RunSync, db: Kysely<DB>, values: FaultValues) {
  const [row] = run(insertFaultQuery.compile(db, values))
  if (!row) throw new Error('insert returned no row')
  return row
}

type ReservedFault = FaultValues & { id: number }
const insertReservedQuery = preparedQuery<DB, ReservedFault, never>((db, arg) =>
  db.insertInto('faults').values({ id: arg('id'), ...valuesOf(arg) }),
)
const insertReservedRecordedQuery = preparedQuery<DB, ReservedFault & RecordArgs, never>((db, arg) =>
  withOutcomeRecord(db, arg)
    .insertInto('faults')
    .values({ id: arg('id'), ...valuesOf(arg) }),
)

/**
 * One fault whose id was reserved (PostgreSQL), in one statement with the record of its create's outcome
 * when there is one: what the fault is was known before it was written.
 */
export async function insertReservedFault(db: Kysely<DB>, values: ReservedFault, record: OutcomeRecord | null): Promise<void> {
  if (record) await insertReservedRecordedQuery.all(db, { ...values, ...recordArgs(record) })
  else await insertReservedQuery.all(db, values)
}

export async function updateFault(trx: Transaction<DB>, accountId: number, id: number, changes: UpdateFault): Promise<void> {
  await trx
    .updateTable('faults')
    .set({ ...changes, updated_at: new Date().toISOString() })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute()
}

export async function deleteFault(trx: Transaction<DB>, accountId: number, id: number): Promise<void> {
  await trx.deleteFrom('faults').where('account_id', '=', accountId).where('id', '=', id).execute()
}
