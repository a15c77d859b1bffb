// Vehicle rows: every query takes the account id, so none can reach another tenant's vehicles.
import type { Kysely, Selectable, Transaction } from 'kysely'
import { type DB, toIso, type VehiclesTable } from '../../db/schema.js'
import type { CreateVehicle, Vehicle } from './vehicles.schemas.js'

export const vehicleColumns = [
  'id',
  'created_at',
  'updated_at',
  'account_id',
  'name',
  'vin',
  'license_plate',
  'external_id',
  'make',
  'model',
  'year',
  'archived_at',
] as const

type Row = Pick<Selectable<VehiclesTable>, (typeof vehicleColumns)[number]>

export function toVehicle(row: Row): Vehicle {
  return {
    ...row,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    archived_at: toIso(row.archived_at),
  }
}

export function vehiclesQuery(db: Kysely<DB>, accountId: number) {
  return db.selectFrom('vehicles').select(vehicleColumns).where('account_id', '=', accountId)
}

export async function findVehicle(db: Kysely<DB>, accountId: number, id: number) {
  return vehiclesQuery(db, accountId).where('id', '=', id).executeTakeFirst()
}

/** The row a new vehicle is stored as (POST /vehicles and bulk jobs). */
export function vehicleRow(accountId: number, input: CreateVehicle, now: string, isSample = false) {
  return {
    account_id: accountId,
    name: input.name,
    vin: input.vin ?? null,
    license_plate: input.license_plate ?? null,
    external_id: input.external_id ?? null,
    make: input.make ?? null,
    model: input.model ?? null,
    year: input.year ?? null,
    is_sample: isSample ? 1 : 0,
    created_at: now,
    updated_at: now,
  }
}

/** Inserts a vehicle; a duplicate name raises the driver's unique violation (the constraint decides). */
export async function insertVehicle(db: Kysely<DB>, accountId: number, input: CreateVehicle, options: { isSample?: boolean } = {}) {
  return db
    .insertInto('vehicles')
    .values(vehicleRow(accountId, input, new Date().toISOString(), options.isSample))
    .returning(vehicleColumns)
    .executeTakeFirstOrThrow()
}

export type VehicleChanges = Partial<Omit<CreateVehicle, 'name'>> & { name?: string; archived_at?: string | null }

export async function updateVehicle(trx: Transaction<DB>, accountId: number, id: number, changes: VehicleChanges) {
  return trx
    .updateTable('vehicles')
    .set({ ...changes, updated_at: new Date().toISOString() })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returning(vehicleColumns)
    .executeTakeFirstOrThrow()
}

export async function deleteVehicle(trx: Transaction<DB>, accountId: number, id: number): Promise<void> {
  await trx.deleteFrom('vehicles').where('account_id', '=', accountId).where('id', '=', id).execute()
}
