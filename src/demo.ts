// The first run's demo: on the embedded default with an empty database, an account with sample data.
import type { Kysely, Transaction } from 'kysely'
import type { DB } from './db/schema.js'
import { insertFaultRule } from './modules/fault-rules/fault-rules.repository.js'
import { insertFaults } from './modules/faults/faults.repository.js'
import { prepareFault } from './modules/faults/faults.service.js'
import { type CreatedAccount, createAccount } from './modules/identity/members.repository.js'
import { insertVehicle } from './modules/vehicles/vehicles.repository.js'

export const DEMO_EMAIL = 'demo@fleet-faults.local'

const sampleVehicles = [
  { name: 'Truck 101', make: 'Freightliner', model: 'Cascadia', year: 2021, vin: '1FUJGLDR5MLKJ2048', license_plate: 'FLT-101' },
  { name: 'Van 202', make: 'Ford', model: 'Transit', year: 2019, vin: '1FTBR1C82KKA12345', license_plate: 'FLT-202' },
  { name: 'Pickup 303', make: 'Toyota', model: 'Tundra', year: 2022, license_plate: 'FLT-303' },
]
const sampleRules = [
  { code: 'P0300', name: 'Random/multiple cylinder misfire', priority_handling: 'critical' as const },
  { code: 'P0420', name: 'Catalyst efficiency below threshold', priority_handling: 'off' as const },
  { code: 'U0100', name: 'Lost communication with ECM', priority_handling: 'ignore' as const },
]
const sampleFaults = [
  { vehicle: 0, code: 'P0300', count: 3, source: 'geotab' },
  { vehicle: 0, code: 'P0420', count: 1, source: 'geotab' },
  { vehicle: 1, code: 'P0420', count: 2, source: 'samsara', status: 'resolved' as const },
  { vehicle: 2, code: 'U0100', count: 1, source: 'samsara' },
]

async function seedSampleFleet(trx: Transaction<DB>, accountId: number): Promise<void> {
  const vehicles = []
  for (const vehicle of sampleVehicles) vehicles.push(await insertVehicle(trx, accountId, vehicle, { isSample: true }))
  for (const rule of sampleRules) await insertFaultRule(trx, accountId, rule, { isSample: true })
  for (const fault of sampleFaults) {
    const vehicleId = vehicles[fault.vehicle]?.id ?? 0
    const prepared = await prepareFault(trx, accountId, { ...fault, vehicle_id: vehicleId }, {}, { isSample: true })
    if ('errors' in prepared) throw new Error(`sample fault is invalid: ${JSON.stringify(prepared.errors)}`)
    await insertFaults(trx, [prepared.values])
  }
}

/** Creates the demo account when there is no account at all; null when the database is not empty. */
export async function seedDemo(db: Kysely<DB>): Promise<CreatedAccount | null> {
  return db.transaction().execute(async (trx) => {
    const any = await trx.selectFrom('accounts').select('id').limit(1).executeTakeFirst()
    if (any) return null
    const created = await createAccount(trx, { name: 'Demo Fleet', email: DEMO_EMAIL, first_name: 'Demo', last_name: 'User' })
    await seedSampleFleet(trx, created.account.id)
    return created
  })
}

export function demoBanner(address: string, demo: CreatedAccount): string {
  return [
    'A demo account with sample vehicles, fault rules and faults was created (shown once;',
    '`fleet-faults accounts create` makes more):',
    `  Account-Token: ${demo.account.account_token}`,
    `  API key:       ${demo.api_key}`,
    '  First call:',
    `    curl -s ${address}/api/v1/faults -H "Authorization: Token ${demo.api_key}" -H "Account-Token: ${demo.account.account_token}"`,
  ].join('\n')
}
