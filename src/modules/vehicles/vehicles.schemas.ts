// Vehicle (CONTRACT §1): a fleet's vehicles; faults hang off them. Archived ones leave lists.
import { type Static, Type } from 'typebox'
import { Id, Nullable, Timestamp } from '../../http/schemas.js'

const Text = Type.String({ maxLength: 255 })
const Year = Type.Integer({ minimum: 1886, maximum: 2100, format: 'int32' })
const Vin = Type.String({ maxLength: 17 })

export const Vehicle = Type.Object({
  id: Id,
  created_at: Timestamp,
  updated_at: Timestamp,
  account_id: Id,
  name: Text,
  vin: Nullable(Vin),
  license_plate: Nullable(Text),
  external_id: Nullable(Text),
  make: Nullable(Text),
  model: Nullable(Text),
  year: Nullable(Year),
  archived_at: Nullable(Timestamp),
})
export type Vehicle = Static<typeof Vehicle>

const editable = {
  vin: Type.Optional(Nullable(Vin)),
  license_plate: Type.Optional(Nullable(Text)),
  external_id: Type.Optional(Nullable(Text)),
  make: Type.Optional(Nullable(Text)),
  model: Type.Optional(Nullable(Text)),
  year: Type.Optional(Nullable(Year)),
}

export const CreateVehicle = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }), ...editable },
  { additionalProperties: false },
)
export type CreateVehicle = Static<typeof CreateVehicle>

export const UpdateVehicle = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    ...editable,
    archived: Type.Optional(Type.Boolean({ description: 'true archives the vehicle, false restores it' })),
  },
  { additionalProperties: false },
)
export type UpdateVehicle = Static<typeof UpdateVehicle>
