// Each record of a job is what its single endpoint would make of it (CONTRACT §10): the same rules,
// the same messages, the same status; proven by sending the same input to that endpoint.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import { buildTestApp, engine, type TestApp } from '../helpers/app.js'
import { makeAccount, type TestAccount } from '../helpers/factories.js'
import { makeRule, makeVehicle } from '../helpers/fleet.js'
import { accepted, finished, submit } from './helpers.js'

describe(`bulk job records (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let vehicleId: number
  before(async () => {
    t = await buildTestApp({ env: { RATE_LIMIT_QUOTA: '100000' } })
    acme = await makeAccount(t.app)
    vehicleId = (await makeVehicle(t.app, acme.accountId, { name: 'Truck 1' })).id
    await makeRule(t.app, acme.accountId, { code: 'P0300', name: 'Random misfire', description: 'Cylinder misfire detected' })
    await makeRule(t.app, acme.accountId, { code: 'P0420' })
    await makeRule(t.app, acme.accountId, { code: 'U0100', priority_handling: 'ignore' })
  })
  after(() => t.close())

  const single = (method: 'POST' | 'PATCH', url: string, payload: object, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url, headers: { ...acme.headers, ...headers }, payload })
  /** What the single endpoint answers for the input: its status, and the errors hash of a 422. */
  async function singleOutcome(method: 'POST' | 'PATCH', url: string, payload: object, headers: Record<string, string> = {}) {
    const response = await single(method, url, payload, headers)
    return { status: response.statusCode, ...(response.statusCode === 422 ? { errors: response.json().errors } : {}) }
  }

  it('answers mixed fault records each as POST /faults would, with its messages, and creates the valid ones alike', async () => {
    const records: Record<string, unknown>[] = [
      {},
      { vehicle_id: vehicleId, code: 'P0420', count: 3, colour: 'red' },
      { vehicle_id: 'seven', code: 'P0300' },
      { vehicle_id: vehicleId, code: 'NOPE' },
      { vehicle_id: 999999999, code: 'P0300' },
      { vehicle_id: vehicleId, code: 'U0100', status: 'open', external_id: 'ignored-by-rule' },
      { vehicle_id: vehicleId, code: 'P0300', status: 'bogus', count: 0, last_occurred_at: 'yesterday', name: 'n'.repeat(256) },
      { vehicle_id: vehicleId, code: '' },
      { vehicle_id: vehicleId, code: 'P0300', name: 'nul\u0000name' },
      {
        vehicle_id: vehicleId,
        code: 'P0300',
        name: 'Mine',
        description: 'Mine too',
        external_id: 'e-1',
        last_occurred_at: '2026-01-02T03:04:05+01:00',
        source: 'telematics',
        status: 'resolved',
      },
      { vehicle_id: 1.5, code: 7, count: 'many', description: 12 },
    ]
    const job = await finished(t.app, acme, (await accepted(t.app, acme, { resource: 'fault', operation: 'create', records })).id)
    assert.equal(job.status, 'completed')
    assert.deepEqual(
      job.results.map((result) => result.index),
      records.map((_, index) => index),
    )
    for (const [index, record] of records.entries()) {
      const result = job.results[index]
      const expected = await singleOutcome('POST', '/api/v1/faults', record)
      assert.equal(result?.status, expected.status, `record ${index}: ${JSON.stringify(result)}`)
      assert.deepEqual(result?.errors, expected.errors, `record ${index}`)
      if (expected.status !== 201) {
        assert.equal(result?.id, undefined)
        continue
      }
      // The fault made from the record equals the one POST /faults made from the same input.
      const made = (await t.app.inject({ url: `/api/v1/faults/${result?.id}`, headers: acme.headers })).json()
      const twin = (await single('POST', '/api/v1/faults', record)).json()
      for (const volatile of ['id', 'created_at', 'updated_at', 'last_occurred_at']) {
        delete made[volatile]
        delete twin[volatile]
      }
      if (record.last_occurred_at) assert.equal(made.last_occurred_at, twin.last_occurred_at)
      assert.deepEqual(made, twin, `record ${index}`)
    }
    assert.deepEqual([job.succeeded_count, job.failed_count], [3, 8])
    assert.equal(job.results[5]?.status, 201)
    const ignored = (await t.app.inject({ url: `/api/v1/faults/${job.results[5]?.id}`, headers: acme.headers })).json()
    assert.equal(ignored.status, 'ignored', 'the rule files it as ignored, as on POST /faults')
    const named = (await t.app.inject({ url: `/api/v1/faults/${job.results[9]?.id}`, headers: acme.headers })).json()
    assert.deepEqual([named.name, named.description, named.status], ['Random misfire', 'Cylinder misfire detected', 'resolved'])
  })

  it('with Prefer: handling=strict, reports unknown attributes of a record as POST /faults does', async () => {
    const strict = { prefer: 'handling=strict' }
    const records = [
      { vehicle_id: vehicleId, code: 'P0420', colour: 'red' },
      { vehicle_id: vehicleId, code: 'NOPE', colour: 'red', count: 0 },
      { vehicle_id: vehicleId, code: 'P0420' },
    ]
    const response = await submit(t.app, acme, { resource: 'fault', operation: 'create', records }, strict)
    assert.equal(response.statusCode, 202)
    assert.equal(response.headers['preference-applied'], 'handling=strict')
    const job = await finished(t.app, acme, response.json().id)
    for (const [index, record] of records.entries()) {
      const expected = await singleOutcome('POST', '/api/v1/faults', record, strict)
      assert.equal(job.results[index]?.status, expected.status)
      assert.deepEqual(job.results[index]?.errors, expected.errors)
    }
    assert.deepEqual(job.results[0]?.errors, { colour: ['is not a known attribute'] })
  })

  it('applies records past the first batch, each exactly once, in order', async () => {
    const records = Array.from({ length: 250 }, (_, i) =>
      i % 7 === 3 ? { vehicle_id: vehicleId, code: 'P9999' } : { vehicle_id: vehicleId, code: 'P0420', external_id: `many-${i}` },
    )
    const job = await finished(t.app, acme, (await accepted(t.app, acme, { resource: 'fault', operation: 'create', records })).id)
    const invalid = records.filter((record) => record.code === 'P9999').length
    assert.deepEqual([job.status, job.succeeded_count, job.failed_count], ['completed', 250 - invalid, invalid])
    assert.equal(job.results.length, 250)
    const ids = new Set<number>()
    for (const [index, result] of job.results.entries()) {
      assert.equal(result.index, index)
      if (index % 7 === 3)
        assert.deepEqual(result, { index, status: 422, errors: { code: ['must correspond with an existing fault rule'] } })
      else {
        assert.equal(result.status, 201)
        ids.add(result.id as number)
      }
    }
    assert.equal(ids.size, 250 - invalid, 'one fault per valid record')
    const rows = await t.app.database.db
      .selectFrom('faults')
      .select(['id', 'external_id'])
      .where('account_id', '=', acme.accountId)
      .where('external_id', 'like', 'many-%')
      .execute()
    assert.equal(rows.length, 250 - invalid)
    for (const row of rows) assert.ok(ids.has(row.id))
    // Results pair each record with its own fault.
    const byId = new Map(rows.map((row) => [row.id, row.external_id]))
    for (const result of job.results) if (result.id) assert.equal(byId.get(result.id), `many-${result.index}`)
    const stored = await t.app.database.db.selectFrom('bulk_job_records').select('index').where('job_id', '=', job.id).execute()
    assert.equal(stored.length, 0, 'the submitted records are dropped once the job completes')
  })

  // On SQLite a batch's fault ids are counted back from its last insert id (insertFaultIds), which holds
  // only while no trigger inserts faults: one that did would shift every id after it.
  it('has no trigger on faults, which the SQLite batch ids rest on', { skip: engine !== 'sqlite' }, async () => {
    const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'trigger' and tbl_name = 'faults'`.execute(
      t.app.database.db,
    )
    assert.deepEqual(rows, [])
  })

  it('creates vehicles as POST /vehicles would: schema messages, names unique in the account and within the job', async () => {
    await makeVehicle(t.app, acme.accountId, { name: 'Existing' })
    const records = [
      { name: 'Van A', vin: '1HGCM82633A004352', year: 2020, make: 'Ford' },
      { name: 'Van A' },
      { name: 'Existing' },
      { vin: 'V'.repeat(18) },
      { name: 'Van B', year: 1800, model: 12 },
      { name: '' },
      { name: 'Van C', colour: 'blue' },
    ]
    const job = await finished(t.app, acme, (await accepted(t.app, acme, { resource: 'vehicle', operation: 'create', records })).id)
    assert.equal(job.status, 'completed')
    const statuses = job.results.map((result) => result.status)
    assert.deepEqual(statuses, [201, 422, 422, 422, 422, 422, 201])
    assert.deepEqual(job.results[1]?.errors, { name: ['has already been taken'] })
    assert.deepEqual(job.results[2]?.errors, { name: ['has already been taken'] })
    for (const index of [1, 2, 3, 4, 5]) {
      const expected = await singleOutcome('POST', '/api/v1/vehicles', records[index] as object)
      assert.deepEqual(job.results[index]?.errors, expected.errors, `record ${index}`)
      assert.equal(expected.status, 422)
    }
    const van = (await t.app.inject({ url: `/api/v1/vehicles/${job.results[0]?.id}`, headers: acme.headers })).json()
    assert.deepEqual(
      [van.name, van.vin, van.year, van.make, van.model, van.archived_at],
      ['Van A', '1HGCM82633A004352', 2020, 'Ford', null, null],
    )
    const vanC = (await t.app.inject({ url: `/api/v1/vehicles/${job.results[6]?.id}`, headers: acme.headers })).json()
    assert.equal(vanC.name, 'Van C')
  })

  it('updates vehicles by id as PATCH would: 204, 404 for a missing or foreign id, 422 for bad fields or a taken name', async () => {
    const other = await makeAccount(t.app)
    const foreign = await makeVehicle(t.app, other.accountId, { name: 'Theirs' })
    const first = await makeVehicle(t.app, acme.accountId, { name: 'First' })
    const second = await makeVehicle(t.app, acme.accountId, { name: 'Second' })
    const records = [
      { id: first.id, make: 'Volvo', archived: true },
      { id: 999999999, make: 'Nope' },
      { id: foreign.id, make: 'Mine now' },
      { id: second.id, name: 'First' },
      { make: 'No id' },
      { id: second.id, year: 'old', vin: 'V'.repeat(18) },
      { id: first.id, archived: false, name: 'First renamed' },
      { id: second.id, name: 'First' },
      { id: 'one', name: 'x' },
    ]
    const job = await finished(t.app, acme, (await accepted(t.app, acme, { resource: 'vehicle', operation: 'update', records })).id)
    assert.equal(job.status, 'completed')
    assert.deepEqual(
      job.results.map(({ status }) => status),
      [204, 404, 404, 422, 422, 422, 204, 204, 422],
    )
    assert.deepEqual(job.results[0], { index: 0, status: 204, id: first.id })
    assert.deepEqual(job.results[1]?.errors, { id: ['must exist'] })
    assert.deepEqual(job.results[3]?.errors, { name: ['has already been taken'] }, 'First is still taken when record 3 runs')
    assert.deepEqual(job.results[4]?.errors, { id: ["can't be blank"] })
    const patched = await singleOutcome('PATCH', `/api/v1/vehicles/${second.id}`, { year: 'old', vin: 'V'.repeat(18) })
    assert.deepEqual(job.results[5]?.errors, patched.errors)
    assert.deepEqual(job.results[8]?.errors, { id: ['is not a number'] })
    assert.equal((await single('PATCH', '/api/v1/vehicles/999999999', { make: 'Nope' })).statusCode, 404)
    assert.deepEqual([job.succeeded_count, job.failed_count], [3, 6])

    const firstNow = (await t.app.inject({ url: `/api/v1/vehicles/${first.id}`, headers: acme.headers })).json()
    assert.deepEqual([firstNow.name, firstNow.make, firstNow.archived_at], ['First renamed', 'Volvo', null])
    const secondNow = (await t.app.inject({ url: `/api/v1/vehicles/${second.id}`, headers: acme.headers })).json()
    assert.equal(secondNow.name, 'First', 'records apply in order: the name was free once record 6 renamed the first')
    const theirs = (await t.app.inject({ url: `/api/v1/vehicles/${foreign.id}`, headers: other.headers })).json()
    assert.equal(theirs.make, null, "another account's vehicle is untouched")
  })
})
