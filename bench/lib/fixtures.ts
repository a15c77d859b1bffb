// Request payloads shared by bench scenarios (kept in one place so baseline and product get identical bytes).

/** A ~400-byte fault-like item matching the schema of POST /items in bench/baseline.ts. */
export const itemPayload = {
  vehicleId: 4821,
  code: 'P0301',
  title: 'Cylinder 1 misfire detected',
  description:
    'Intermittent misfire on cylinder 1 under load above 2500 rpm; check engine light flashing. ' +
    'Driver reports rough idle after a cold start and a slight loss of power on motorway ramps. ' +
    'Last service 9,000 km ago.',
  severity: 'high',
  odometerKm: 182345,
  reportedBy: 'driver-0192',
  reportedAt: '2025-11-20T08:15:30.000Z',
} as const

export const itemBody = JSON.stringify(itemPayload)

export const jsonHeaders = { 'content-type': 'application/json' } as const

/**
 * A ~450-byte Create Fault body (CONTRACT §1) for POST /api/v1/faults and the database baseline's
 * POST /faults. Fresh databases give the bench vehicle and fault rule id 1 on both servers, which the
 * setup checks, so both receive exactly these bytes.
 */
export const faultPayload = {
  vehicle_id: 1,
  code: 'P0301',
  count: 1,
  description:
    'Intermittent misfire on cylinder 1 under load above 2500 rpm; check engine light flashing. ' +
    'Driver reports rough idle after a cold start and a slight loss of power on motorway ramps. ' +
    'Last service 9,000 km ago.',
  external_id: 'obd-evt-7731',
  last_occurred_at: '2025-11-20T08:15:30.000Z',
  name: 'Cylinder 1 misfire detected',
  status: 'open',
  source: 'telematics',
} as const

export const faultBody = JSON.stringify(faultPayload)

/** Record `n` of the bulk-ingest group: the Create Fault body with an external_id of its own. */
export const bulkRecord = (n: number) => ({ ...faultPayload, external_id: `bulk-${n}` })

/** The vehicle the bench faults belong to (POST /api/v1/vehicles). */
export const vehiclePayload = { name: 'Bench truck 1', vin: '1FUJGLDR0CLBP8834', make: 'Freightliner', model: 'Cascadia', year: 2019 }

/**
 * The fault rule the bench code matches (POST /api/v1/fault_rules). Its name and description equal the
 * body's, so the rows the product stores (rule text wins) equal the baseline's (body text).
 */
export const rulePayload = {
  code: faultPayload.code,
  name: faultPayload.name,
  description: faultPayload.description,
  priority_handling: 'critical',
} as const

/** Faults created before the load on each database server (GET targets and list pages). */
export const PRE_CREATED_FAULTS = 1000

/** `count` ids spread over 1..max in a fixed shuffled order, the same on every server. */
export function spreadIds(max: number, count: number): number[] {
  const ids: number[] = []
  let x = 12345
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648
    ids.push(1 + (x % max))
  }
  return ids
}
