// Fault rows joined with their vehicle (for vehicle_archived_at), always within one account.
import type { Insertable, Kysely, Transaction } from 'kysely'
import { type DB, type FaultsTable, toIso } from '../../db/schema.js'
import type { Fault, UpdateFault } from './faults.schemas.js'

const faultColumns = [
  'faults.id',
  'faults.created_at',
  'faults.updated_at',
  'faults.account_id',
  'faults.vehicle_id',
  'faults.code',
  'faults.count',
  'faults.description',
  'faults.external_id',
  'faults.last_occurred_at',
  'faults.name',
  'faults.status',
  'faults.source',
  'faults.fault_rule_id',
  'faults.is_sample',
  'faults.idempotency_key',
] as const

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

export function faultsQuery(db: Kysely<DB>, accountId: number) {
  return db
    .selectFrom('faults')
    .innerJoin('vehicles', 'vehicles.id', 'faults.vehicle_id')
    .select(faultColumns)
    .select('vehicles.archived_at as vehicle_archived_at')
    .where('faults.account_id', '=', accountId)
}

export async function findFault(db: Kysely<DB>, accountId: number, id: number): Promise<FaultRow | undefined> {
  return faultsQuery(db, accountId).where('faults.id', '=', id).executeTakeFirst()
}

/**
 * What a new fault needs to know, in one round trip: the vehicle (if it is the account's) and the
 * rule its code matches (if the account has one).
 */
export async function lookupForFault(db: Kysely<DB>, accountId: number, vehicleId: number | undefined, code: string | undefined) {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('vehicles')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', '=', vehicleId ?? 0)
        .as('vehicle_id'),
      eb
        .selectFrom('vehicles')
        .select('archived_at')
        .where('account_id', '=', accountId)
        .where('id', '=', vehicleId ?? 0)
        .as('archived_at'),
      eb
        .selectFrom('fault_rules')
        .select('id')
        .where('account_id', '=', accountId)
        .where('code', '=', code ?? '')
        .as('rule_id'),
      eb
        .selectFrom('fault_rules')
        .select('name')
        .where('account_id', '=', accountId)
        .where('code', '=', code ?? '')
        .as('rule_name'),
      eb
        .selectFrom('fault_rules')
        .select('description')
        .where('account_id', '=', accountId)
        .where('code', '=', code ?? '')
        .as('rule_description'),
      eb
        .selectFrom('fault_rules')
        .select('priority_handling')
        .where('account_id', '=', accountId)
        .where('code', '=', code ?? '')
        .as('priority_handling'),
    ])
    .executeTakeFirstOrThrow()
  return {
    vehicle: vehicleId !== undefined && row.vehicle_id !== null ? { id: Number(row.vehicle_id), archived_at: row.archived_at } : undefined,
    rule:
      code !== undefined && row.rule_id !== null
        ? { id: Number(row.rule_id), name: row.rule_name, description: row.rule_description, priority_handling: row.priority_handling }
        : undefined,
  }
}

export type NewFault = Insertable<FaultsTable>

const returned = [
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

export async function insertFaults(db: Kysely<DB>, values: NewFault[]) {
  return db.insertInto('faults').values(values).returning(returned).execute()
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
