// Fleet factories: vehicles, fault rules and faults made through the real repository and service code.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { insertFaultRule } from '../../src/modules/fault-rules/fault-rules.repository.js'
import type { CreateFaultRule } from '../../src/modules/fault-rules/fault-rules.schemas.js'
import { insertFaults } from '../../src/modules/faults/faults.repository.js'
import type { CreateFault } from '../../src/modules/faults/faults.schemas.js'
import { prepareFault } from '../../src/modules/faults/faults.service.js'
import { insertVehicle } from '../../src/modules/vehicles/vehicles.repository.js'
import type { CreateVehicle } from '../../src/modules/vehicles/vehicles.schemas.js'

const unique = () => randomBytes(4).toString('hex')

export async function makeVehicle(app: FastifyInstance, accountId: number, overrides: Partial<CreateVehicle> = {}) {
  return insertVehicle(app.database.db, accountId, { name: `Truck ${unique()}`, ...overrides })
}

export async function makeRule(app: FastifyInstance, accountId: number, overrides: Partial<CreateFaultRule> = {}) {
  return insertFaultRule(app.database.db, accountId, { code: `P${unique()}`, ...overrides })
}

/** A fault through the same preparation POST /faults uses; throws if the input is invalid. */
export async function makeFault(
  app: FastifyInstance,
  accountId: number,
  input: Partial<CreateFault> & Pick<CreateFault, 'vehicle_id' | 'code'>,
) {
  const prepared = await prepareFault(app.database.db, accountId, input, {})
  if ('errors' in prepared) throw new Error(`invalid fault: ${JSON.stringify(prepared.errors)}`)
  const [row] = await insertFaults(app.database.db, [prepared.values])
  if (!row) throw new Error('no row')
  return row
}
