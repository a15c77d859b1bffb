// Fault (the seed's Create Fault, field for field): a diagnostic trouble code reported for a vehicle.
import { type Static, Type } from 'typebox'
import { Id, Nullable, Timestamp } from '../../http/schemas.js'

export const FaultStatus = Type.Enum(['open', 'resolved', 'ignored'], { description: 'The status of the Fault.' })
const Text = Type.String({ maxLength: 255 })
const Description = Type.String({ maxLength: 65535 })
const Count = Type.Integer({
  minimum: 1,
  maximum: 2147483647,
  format: 'int32',
  description: 'The number of times this Fault has occurred.',
})

export const Fault = Type.Object({
  id: Id,
  created_at: Timestamp,
  updated_at: Timestamp,
  account_id: Id,
  vehicle_id: Id,
  code: Type.String({ maxLength: 255, description: 'The diagnostic trouble code.' }),
  count: Count,
  description: Nullable(Description),
  external_id: Nullable(Text),
  last_occurred_at: Timestamp,
  name: Nullable(Text),
  status: FaultStatus,
  source: Nullable(Text),
  vehicle_archived_at: Nullable(Timestamp),
  fault_rule_id: Nullable(Id),
  is_sample: Type.Boolean({ description: 'Indicates if the Fault is sample data.' }),
  idempotency_key: Nullable(Type.String({ maxLength: 255, description: 'The Idempotency-Key the Fault was created with.' })),
})
export type Fault = Static<typeof Fault>

export const CreateFault = Type.Object(
  {
    vehicle_id: Id,
    code: Type.String({ minLength: 1, maxLength: 255, description: 'Must correspond with an existing Fault Rule.' }),
    count: Type.Optional(Count),
    description: Type.Optional(Description),
    external_id: Type.Optional(Text),
    last_occurred_at: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'ISO-8601; default: now' })),
    name: Type.Optional(Text),
    status: Type.Optional(FaultStatus),
    source: Type.Optional(Text),
  },
  { additionalProperties: false },
)
export type CreateFault = Static<typeof CreateFault>

export const UpdateFault = Type.Object(
  {
    status: Type.Optional(FaultStatus),
    count: Type.Optional(Count),
    last_occurred_at: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    description: Type.Optional(Nullable(Description)),
    name: Type.Optional(Nullable(Text)),
    external_id: Type.Optional(Nullable(Text)),
    source: Type.Optional(Nullable(Text)),
  },
  { additionalProperties: false },
)
export type UpdateFault = Static<typeof UpdateFault>
