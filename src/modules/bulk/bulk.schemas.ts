// Bulk jobs (CONTRACT §10): the submitted envelope, the job as a status monitor, and its per-record results.
import { type Static, Type } from 'typebox'
import { Id, Nullable, Timestamp } from '../../http/schemas.js'
import { UpdateVehicle } from '../vehicles/vehicles.schemas.js'

/** The largest BULK_MAX_RECORDS the configuration admits: bounds the declared arrays. */
const MAX_RECORDS_DECLARED = 100000

export const BulkResource = Type.Enum(['fault', 'vehicle'], { description: 'The kind of record: fault or vehicle' })
export const BulkOperation = Type.Enum(['create', 'update'], { description: 'create (faults, vehicles) or update by id (vehicles)' })
export const BulkJobStatus = Type.Enum(['queued', 'processing', 'completed', 'failed'])

/** What each resource supports; any other pair is a 422 on `operation`. */
export const supportedOperations: Readonly<Record<Static<typeof BulkResource>, readonly Static<typeof BulkOperation>[]>> = {
  fault: ['create'],
  vehicle: ['create', 'update'],
}

/**
 * The envelope only: each record is checked later, by the worker, with the single endpoint's rules.
 * Records must be objects; their emptiness and count are checked by the route, to word the messages.
 */
export const CreateBulkJob = Type.Object(
  {
    resource: BulkResource,
    operation: BulkOperation,
    records: Type.Array(Type.Object({}, { additionalProperties: true }), {
      maxItems: MAX_RECORDS_DECLARED,
      description: 'The records, each with the fields of the single endpoint (updates: plus `id`); at most BULK_MAX_RECORDS',
    }),
  },
  { additionalProperties: false },
)
export type CreateBulkJob = Static<typeof CreateBulkJob>

/** A vehicle update names its vehicle by `id` beside the fields PATCH /vehicles/{id} takes. */
export const BulkVehicleUpdate = Type.Object({ id: Id, ...UpdateVehicle.properties }, { additionalProperties: false })
export type BulkVehicleUpdate = Static<typeof BulkVehicleUpdate>

const FieldErrors = Type.Record(Type.String(), Type.Array(Type.String({ maxLength: 255 }), { maxItems: 20 }), {
  description: 'Field → messages (CONTRACT §5), for a record that was not applied',
})

export const BulkResult = Type.Object({
  index: Type.Integer({
    minimum: 0,
    maximum: MAX_RECORDS_DECLARED - 1,
    format: 'int32',
    description: 'Position in the submitted records, from 0',
  }),
  status: Type.Integer({
    minimum: 200,
    maximum: 599,
    format: 'int32',
    description: 'What the single endpoint would have answered: 201 created, 204 updated, 404 no such vehicle, 422 invalid',
  }),
  id: Type.Optional(Id),
  errors: Type.Optional(FieldErrors),
})
export type BulkResult = Static<typeof BulkResult>

const jobFields = {
  id: Id,
  resource: BulkResource,
  operation: BulkOperation,
  status: BulkJobStatus,
  records_count: Type.Integer({ minimum: 1, maximum: MAX_RECORDS_DECLARED, format: 'int32' }),
  succeeded_count: Type.Integer({ minimum: 0, maximum: MAX_RECORDS_DECLARED, format: 'int32' }),
  failed_count: Type.Integer({ minimum: 0, maximum: MAX_RECORDS_DECLARED, format: 'int32' }),
  created_at: Timestamp,
  started_at: Nullable(Timestamp),
  completed_at: Nullable(Timestamp),
}

export const BulkJob = Type.Object({
  ...jobFields,
  results: Type.Array(BulkResult, {
    maxItems: MAX_RECORDS_DECLARED,
    description: 'One per processed record, by index; complete once the job is completed',
  }),
})
export type BulkJob = Static<typeof BulkJob>

export const BulkJobSummary = Type.Object(jobFields, {
  description: 'A job as lists show it: without `results`, which GET /bulk_api_jobs/{id} returns',
})
export type BulkJobSummary = Static<typeof BulkJobSummary>
