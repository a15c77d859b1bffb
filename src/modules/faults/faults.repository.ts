// Fault rows joined with their vehicle (for vehicle_archived_at), always within one account.
import type { Insertable, Kysely, Transaction } from 'kysely'
import { preparedQuery } from '../../db/prepared.js'
import { type DB, type FaultsTable, type PriorityHandling, toIso } from '../../db/schema.js'
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

/** The vehicle (if it is the account's) and the rule a code matches (if the account has one), in one round trip. */
const lookupQuery = preparedQuery<DB, { accountId: number; vehicleId: number; code: string }, LookupRow>((db, arg) =>
  db.selectNoFrom((eb) => {
    const vehicle = () => eb.selectFrom('vehicles').where('account_id', '=', arg('accountId')).where('id', '=', arg('vehicleId'))
    const rule = () => eb.selectFrom('fault_rules').where('account_id', '=', arg('accountId')).where('code', '=', arg('code'))
    return [
      vehicle().select('id').as('vehicle_id'),
      vehicle().select('archived_at').as('archived_at'),
      rule().select('id').as('rule_id'),
      rule().select('name').as('rule_name'),
      rule().select('description').as('rule_description'),
      rule().select('priority_handling').as('priority_handling'),
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
}

/** What a new fault needs to know: its vehicle and its rule, each undefined when the account has none. */
export async function lookupForFault(db: Kysely<DB>, accountId: number, vehicleId: number | undefined, code: string | undefined) {
  const row = await lookupQuery.first(db, { accountId, vehicleId: vehicleId ?? 0, code: code ?? '' })
  if (!row) throw new Error('the lookup returned no row')
  return {
    vehicle: vehicleId !== undefined && row.vehicle_id !== null ? { id: Number(row.vehicle_id), archived_at: row.archived_at } : undefined,
    rule:
      code !== undefined && row.rule_id !== null
        ? { id: Number(row.rule_id), name: row.rule_name, description: row.rule_description, priority_handling: row.priority_handling }
        : undefined,
  }
}

export type NewFault = Insertable<FaultsTable>

export async function insertFaults(db: Kysely<DB>, values: NewFault[]) {
  return db.insertInto('faults').values(values).returning(FAULT_COLUMNS).execute()
}

/** Every column of a new fault but its id: what prepareFault builds. */
export type FaultValues = { [K in Exclude<keyof NewFault, 'id'>]-?: Exclude<NewFault[K], undefined> }
const faultValueColumns = [...FAULT_COLUMNS.filter((column) => column !== 'id')] as (keyof FaultValues)[]

const insertFaultQuery = preparedQuery<DB, FaultValues, Awaited<ReturnType<typeof insertFaults>>[number]>((db, arg) =>
  db
    .insertInto('faults')
    .values(Object.fromEntries(faultValueColumns.map((column) => [column, arg(column)])) as FaultValues)
    .returning(FAULT_COLUMNS),
)

/** One fault (POST /faults): the same insert as insertFaults, compiled once. */
export async function insertFault(db: Kysely<DB>, values: FaultValues) {
  const row = await insertFaultQuery.first(db, values)
  if (!row) throw new Error('insert returned no row')
  return row
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
