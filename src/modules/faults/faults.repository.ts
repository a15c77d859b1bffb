// Fault rows joined with their vehicle (for vehicle_archived_at), always within one account.
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely'
import type { RunSync } from '../../db/group-commit.js'
import { type Arg, preparedQuery } from '../../db/prepared.js'
import { type DB, type FaultsTable, type PriorityHandling, toIso } from '../../db/schema.js'
import { type OutcomeRecord, type StoredRecordColumns, storedRecordOf, storedRecordSelection } from '../../http/idempotency.js'
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

/**
 * The account's faults with their vehicle's archived_at. A left join on the vehicle's primary key: both
 * engines drop it where no vehicle column is used (a list's count), and PostgreSQL looks each vehicle up
 * once per page (Memoize) where a correlated subquery ran once per row.
 */
export function faultsQuery(db: Kysely<DB>, accountId: number) {
  return db
    .selectFrom('faults')
    .leftJoin('vehicles', 'vehicles.id', 'faults.vehicle_id')
    .select(faultColumns)
    .select('vehicles.archived_at as vehicle_archived_at')
    .where('faults.account_id', '=', accountId)
}

const findFaultQuery = preparedQuery<DB, { accountId: number; id: number }, FaultRow>((db, arg) =>
  faultsQuery(db, arg('accountId')).where('faults.id', '=', arg('id')),
)

export async function findFault(db: Kysely<DB>, accountId: number, id: number): Promise<FaultRow | undefined> {
  return findFaultQuery.first(db, { accountId, id })
}

/**
 * The vehicle (if it is the account's), the rule a code matches (if the account has one) and what is stored
 * under the create's key, in one round trip: outer joins to one row, each a unique key's lookup.
 */
const lookupQuery = preparedQuery<DB, { accountId: number; vehicleId: number; code: string; idempotencyKey: string }, LookupRow>(
  (db, arg) =>
    db
      .selectFrom(sql<{ one: number }>`(select 1 as one)`.as('lookup'))
      .leftJoin('vehicles', (join) => join.on('vehicles.account_id', '=', arg('accountId')).on('vehicles.id', '=', arg('vehicleId')))
      .leftJoin('fault_rules', (join) => join.on('fault_rules.account_id', '=', arg('accountId')).on('fault_rules.code', '=', arg('code')))
      .leftJoin('idempotency_keys as stored', (join) =>
        join.on('stored.account_id', '=', arg('accountId')).on('stored.key', '=', arg('idempotencyKey')),
      )
      .select([
        'vehicles.id as vehicle_id',
        'vehicles.archived_at as archived_at',
        'fault_rules.id as rule_id',
        'fault_rules.name as rule_name',
        'fault_rules.description as rule_description',
        'fault_rules.priority_handling as priority_handling',
        ...storedRecordSelection,
      ]),
)
interface LookupRow extends StoredRecordColumns {
  vehicle_id: number | null
  archived_at: Date | string | null
  rule_id: number | null
  rule_name: string | null
  rule_description: string | null
  priority_handling: PriorityHandling | null
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
    stored: storedRecordOf(row),
  }
}

export type NewFault = Insertable<FaultsTable>

export async function insertFaults(db: Kysely<DB>, values: NewFault[]) {
  return db.insertInto('faults').values(values).returning(FAULT_COLUMNS).execute()
}

/** Every column of a new fault but its id: what prepareFault builds. */
export type FaultValues = { [K in Exclude<keyof NewFault, 'id'>]-?: Exclude<NewFault[K], undefined> }
/** The columns of a new fault but its id, in FAULT_COLUMNS order. */
export const faultValueColumns = [...FAULT_COLUMNS.filter((column) => column !== 'id')] as (keyof FaultValues)[]

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

/** A rule as a new fault uses it (what the lookup finds for its code). */
export interface FaultRule {
  id: number
  name: string | null
  description: string | null
  priority_handling: PriorityHandling | null
}

/** What a create statement needs besides the fault: the rule it was built from, and its outcome's record. */
export type GuardedArgs = FaultValues & {
  rule_name: string | null
  rule_description: string | null
  priority_handling: PriorityHandling | null
} & Partial<Omit<OutcomeRecord, 'response_body' | 'account_id'> & { location_prefix: string }>

export interface GuardedRow extends Partial<StoredRecordColumns> {
  /** The new fault's id; null when nothing was written. */
  created_id: number | null
  /** The vehicle, null when the account has no such vehicle. */
  vehicle_id: number | null
  archived_at: Date | string | null
  /** False when the rule is no longer the one the fault was built from (changed or deleted). */
  rule_ok: boolean
}

/** PostgreSQL types of a new fault's columns: the statement's parameters are cast to them. */
const PG_TYPES: Record<keyof FaultValues, string> = {
  account_id: 'bigint',
  vehicle_id: 'bigint',
  fault_rule_id: 'bigint',
  code: 'varchar',
  count: 'integer',
  description: 'text',
  external_id: 'varchar',
  last_occurred_at: 'timestamptz',
  name: 'varchar',
  status: 'varchar',
  source: 'varchar',
  is_sample: 'integer',
  idempotency_key: 'varchar',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
}

/**
 * One fault built from a rule known beforehand, in one statement (PostgreSQL): it is written only if its
 * vehicle is the account's, the rule is still exactly the one it was built from, and (keyed) nothing is
 * stored under its key yet; then so is the record of its outcome, in the clear (faultRecordBody's shape).
 * The statement answers what it found either way, so a create that wrote nothing knows why.
 */
function guardedCreate(keyed: boolean) {
  return preparedQuery<DB, GuardedArgs, GuardedRow>((db, arg) => {
    const param = (name: keyof GuardedArgs & string, type: string) => sql`cast(${arg(name)} as ${sql.raw(type)})`
    const account = param('account_id', 'bigint')
    const key = param('key', 'varchar')
    const columns = sql.join(faultValueColumns.map((column) => sql.ref(column)))
    const values = sql.join(faultValueColumns.map((column) => param(column, PG_TYPES[column])))
    const stored = sql`, stored as (
      select fingerprint, response_body, location, expires_at from idempotency_keys where account_id = ${account} and key = ${key})`
    const recorded = sql`, recorded as (
      insert into idempotency_keys (account_id, key, fingerprint, response_body, location, expires_at)
      select ${account}, ${key}, ${param('fingerprint', 'varchar')},
        json_build_object('row', row_to_json(created), 'vehicle_archived_at', vehicle.archived_at)::text,
        ${param('location_prefix', 'varchar')} || created.id, ${param('expires_at', 'timestamptz')}
      from created cross join vehicle)`
    const query = sql`with vehicle as (
        select id, archived_at from vehicles where account_id = ${account} and id = ${param('vehicle_id', 'bigint')}
      ), rule as (
        select 1 from fault_rules where account_id = ${account} and id = ${param('fault_rule_id', 'bigint')}
          and code = ${param('code', 'varchar')} and name is not distinct from ${param('rule_name', 'varchar')}
          and description is not distinct from ${param('rule_description', 'text')}
          and priority_handling is not distinct from ${param('priority_handling', 'varchar')}
      )${keyed ? stored : sql``}, created as (
        insert into faults (${columns}) select ${values} from vehicle
        where exists (select 1 from rule)${keyed ? sql` and not exists (select 1 from stored)` : sql``}
        returning ${sql.join(FAULT_COLUMNS.map((column) => sql.ref(column)))}
      )${keyed ? recorded : sql``}
      select created.id as created_id, vehicle.id as vehicle_id, vehicle.archived_at, exists (select 1 from rule) as rule_ok${
        keyed
          ? sql`, stored.fingerprint as stored_fingerprint, stored.response_body as stored_response_body,
              stored.location as stored_location, stored.expires_at as stored_expires_at`
          : sql``
      }
      from (select 1) as one left join vehicle on true left join created on true${keyed ? sql` left join stored on true` : sql``}`
    return { compile: () => query.compile(db) }
  })
}
const guardedCreates = { plain: guardedCreate(false), keyed: guardedCreate(true) }

/** Runs the one-statement create (PostgreSQL); keyed when `args` carry a key. */
export async function createGuarded(db: Kysely<DB>, args: GuardedArgs): Promise<GuardedRow> {
  const row = await (args.key === undefined ? guardedCreates.plain : guardedCreates.keyed).first(db, args)
  if (!row) throw new Error('the create statement returned no row')
  return { ...row, created_id: row.created_id === null ? null : Number(row.created_id) }
}

/**
 * A create's outcome as its record keeps it, in the clear (a fault holds no secret): the row as written and
 * its vehicle's archived_at, which the fault's one mapper turns back into the body first answered.
 */
export function faultRecordBody(row: Awaited<ReturnType<typeof insertFaults>>[number], vehicleArchivedAt: Date | string | null): string {
  return JSON.stringify({ row, vehicle_archived_at: vehicleArchivedAt })
}

export function faultOfRecord(body: string): Fault {
  const { row, vehicle_archived_at } = JSON.parse(body) as { row: FaultRow; vehicle_archived_at: string | null }
  return toFault({ ...row, vehicle_archived_at })
}

/**
 * Applies `changes` to the fault `current` (read, and locked, in the same transaction) and answers it as
 * it now is: the row the update returns, with the vehicle's archived_at as read with `current` (a PATCH
 * does not change a fault's vehicle), so the fault is not read a second time. The vehicle row is not
 * locked: an archive committed meanwhile shows from the next read on (the ETag is of the body answered).
 * Undefined if the fault is gone.
 */
export async function updateFault(
  trx: Transaction<DB>,
  accountId: number,
  current: FaultRow,
  changes: UpdateFault,
): Promise<FaultRow | undefined> {
  const row = await trx
    .updateTable('faults')
    .set({ ...changes, updated_at: new Date().toISOString() })
    .where('account_id', '=', accountId)
    .where('id', '=', current.id)
    .returning(FAULT_COLUMNS)
    .executeTakeFirst()
  return row && { ...row, vehicle_archived_at: current.vehicle_archived_at }
}

export async function deleteFault(trx: Transaction<DB>, accountId: number, id: number): Promise<void> {
  await trx.deleteFrom('faults').where('account_id', '=', accountId).where('id', '=', id).execute()
}
