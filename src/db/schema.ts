// Row types of every table, as Kysely sees them. Timestamps are ISO text (SQLite; PostgreSQL's timestamptz parser, a Date
// only for what it does not recognise).
import type { ColumnType, Generated } from 'kysely'

/** Read as an ISO string (a Date for odd PostgreSQL values); written as an ISO string. */
export type Timestamp = ColumnType<Date | string, string | undefined, string>
export type NullableTimestamp = ColumnType<Date | string | null, string | null | undefined, string | null>

export interface AccountsTable {
  id: Generated<number>
  name: string
  account_token: string
  created_at: Timestamp
  updated_at: Timestamp
}

export interface UsersTable {
  id: Generated<number>
  email: string
  /** The names the user was created with, shown only to the user (/users/me without Account-Token). */
  first_name: string | null
  last_name: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface MembershipsTable {
  id: Generated<number>
  account_id: number
  user_id: number
  role: 'admin' | 'editor' | 'viewer'
  /** The member's names as this account knows them: every account keeps its own (never the user's). */
  first_name: string | null
  last_name: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface ApiKeysTable {
  id: Generated<number>
  user_id: number
  /** The one account the key acts in (made by an admin for another member); null: all the user's accounts. */
  account_id: number | null
  name: string | null
  prefix: string
  key_hash: string
  api_version: string
  created_at: Timestamp
  last_used_at: NullableTimestamp
  revoked_at: NullableTimestamp
}

export interface OauthClientsTable {
  id: Generated<number>
  account_id: number
  created_by_user_id: number | null
  name: string
  client_id: string
  secret_hash: string
  scopes: string
  created_at: Timestamp
  revoked_at: NullableTimestamp
}

export interface ServerSecretsTable {
  name: string
  value: string
  created_at: Timestamp
}

export interface VehiclesTable {
  id: Generated<number>
  account_id: number
  name: string
  vin: string | null
  license_plate: string | null
  external_id: string | null
  make: string | null
  model: string | null
  year: number | null
  archived_at: NullableTimestamp
  is_sample: ColumnType<number, number | undefined, number>
  created_at: Timestamp
  updated_at: Timestamp
}

export type PriorityHandling = 'off' | 'ignore' | 'critical'

export interface FaultRulesTable {
  id: Generated<number>
  account_id: number
  code: string
  name: string | null
  description: string | null
  priority_handling: PriorityHandling | null
  is_sample: ColumnType<number, number | undefined, number>
  created_at: Timestamp
  updated_at: Timestamp
}

export type FaultStatus = 'open' | 'resolved' | 'ignored'

export interface FaultsTable {
  id: Generated<number>
  account_id: number
  vehicle_id: number
  fault_rule_id: number | null
  code: string
  count: number
  description: string | null
  external_id: string | null
  last_occurred_at: Timestamp
  name: string | null
  status: FaultStatus
  source: string | null
  is_sample: ColumnType<number, number | undefined, number>
  idempotency_key: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface IdempotencyKeysTable {
  account_id: number
  key: string
  fingerprint: string
  response_body: string | null
  location: string | null
  expires_at: Timestamp
}

export type BulkResource = 'fault' | 'vehicle'
export type BulkOperation = 'create' | 'update'
export type BulkJobStatus = 'queued' | 'processing' | 'completed' | 'failed'

export interface BulkJobsTable {
  id: Generated<number>
  account_id: number
  resource: BulkResource
  operation: BulkOperation
  status: BulkJobStatus
  strict: ColumnType<number, number | undefined, number>
  records_count: number
  processed_count: ColumnType<number, number | undefined, number>
  succeeded_count: ColumnType<number, number | undefined, number>
  failed_count: ColumnType<number, number | undefined, number>
  attempts: ColumnType<number, number | undefined, number>
  lease_owner: string | null
  heartbeat_at: NullableTimestamp
  created_at: Timestamp
  updated_at: Timestamp
  started_at: NullableTimestamp
  completed_at: NullableTimestamp
}

export interface BulkJobRecordsTable {
  job_id: number
  index: number
  /** The record as submitted, JSON. */
  data: string
}

/** The results of one batch of a job. */
export interface BulkJobResultBatchesTable {
  job_id: number
  /** The index of the batch's first record. */
  index: number
  /** The batch's results as a JSON array (the API's BulkResult), by index. */
  results: string
}

export interface DB {
  bulk_jobs: BulkJobsTable
  bulk_job_records: BulkJobRecordsTable
  bulk_job_result_batches: BulkJobResultBatchesTable
  idempotency_keys: IdempotencyKeysTable
  vehicles: VehiclesTable
  fault_rules: FaultRulesTable
  faults: FaultsTable
  server_secrets: ServerSecretsTable
  accounts: AccountsTable
  users: UsersTable
  memberships: MembershipsTable
  api_keys: ApiKeysTable
  oauth_clients: OauthClientsTable
}

const CHAR_T = 84
const CHAR_Z = 90

/**
 * Renders a timestamp column the same way on both engines: ISO-8601, UTC, milliseconds. Strings already in
 * that form pass as they are: SQLite holds what toISOString (or the migrations' strftime default) wrote,
 * and PostgreSQL's are rewritten into it as they are read (timestamps.ts). The form is told by its length,
 * its T and its Z, not by a regular expression: on the strings the PostgreSQL parser builds, the
 * expression cost ~150 ns a value, ~30 µs of a 50-row page (measured). Any other form is parsed and
 * printed again.
 */
export function toIso(value: Date | string): string
export function toIso(value: Date | string | null): string | null
export function toIso(value: Date | string | null): string | null {
  if (value === null) return null
  if (value instanceof Date) return value.toISOString()
  return value.length === 24 && value.charCodeAt(10) === CHAR_T && value.charCodeAt(23) === CHAR_Z ? value : new Date(value).toISOString()
}
