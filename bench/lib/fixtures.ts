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
