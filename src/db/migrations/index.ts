// The migration set, in order. Names are timestamps so the order is the order of writing.
import type { Migration } from 'kysely'
import * as identity from './20261122000100_identity.js'
import * as serverSecrets from './20261122000200_server_secrets.js'
import * as fleet from './20261122000300_fleet.js'
import * as idempotency from './20261122000400_idempotency.js'
import * as bulkJobs from './20261122000500_bulk_jobs.js'
import * as memberNames from './20261124000100_member_names.js'
import * as keyBinding from './20261125000100_key_binding.js'
import * as idempotencyRecords from './20261126000100_idempotency_records.js'
import * as bulkResultBatches from './20261204000100_bulk_result_batches.js'
import * as bulkResultsIntoBatches from './20261204000200_bulk_results_into_batches.js'

export const migrations: Record<string, Migration> = {
  '20261122000100_identity': identity,
  '20261122000200_server_secrets': serverSecrets,
  '20261122000300_fleet': fleet,
  '20261122000400_idempotency': idempotency,
  '20261122000500_bulk_jobs': bulkJobs,
  '20261124000100_member_names': memberNames,
  '20261125000100_key_binding': keyBinding,
  '20261126000100_idempotency_records': idempotencyRecords,
  '20261204000100_bulk_result_batches': bulkResultBatches,
  '20261204000200_bulk_results_into_batches': bulkResultsIntoBatches,
}
