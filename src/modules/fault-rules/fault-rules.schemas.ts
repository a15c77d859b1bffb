// Fault Rule (CONTRACT §1): a diagnostic code the account tracks; faults must match one.
import { type Static, Type } from 'typebox'
import { Id, Nullable, Timestamp } from '../../http/schemas.js'

export const PriorityHandling = Type.Enum(['off', 'ignore', 'critical'], {
  description: 'ignore: faults with this code are filed as ignored; critical: flagged',
})

export const FaultRule = Type.Object({
  id: Id,
  created_at: Timestamp,
  updated_at: Timestamp,
  account_id: Id,
  code: Type.String({ maxLength: 255 }),
  name: Nullable(Type.String({ maxLength: 255 })),
  description: Nullable(Type.String({ maxLength: 65535 })),
  priority_handling: Nullable(PriorityHandling),
})
export type FaultRule = Static<typeof FaultRule>

const editable = {
  name: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  description: Type.Optional(Nullable(Type.String({ maxLength: 65535 }))),
  priority_handling: Type.Optional(Nullable(PriorityHandling)),
}

export const CreateFaultRule = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 255 }), ...editable },
  { additionalProperties: false },
)
export type CreateFaultRule = Static<typeof CreateFaultRule>

export const UpdateFaultRule = Type.Object(
  { code: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), ...editable },
  { additionalProperties: false },
)
export type UpdateFaultRule = Static<typeof UpdateFaultRule>
