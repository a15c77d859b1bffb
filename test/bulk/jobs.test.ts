// Bulk jobs over HTTP (CONTRACT §4 202, §7, §10): the envelope, 202 and polling, replays, isolation, lists, access.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'
import { bearerToken, makeAccount, makeClient, makeMember, type TestAccount } from '../helpers/factories.js'
import { makeRule, makeVehicle } from '../helpers/fleet.js'
import { accepted, countRows, finished, type JobBody, submit } from './helpers.js'

describe(`bulk jobs over HTTP (${engine})`, () => {
  let t: TestApp
  let acme: TestAccount
  let other: TestAccount
  let vehicleId: number
  const fault = (i: number) => ({ vehicle_id: vehicleId, code: 'P0300', external_id: `ext-${i}` })
  before(async () => {
    t = await buildTestApp({ env: { BULK_MAX_RECORDS: '5', RATE_LIMIT_QUOTA: '100000' } })
    acme = await makeAccount(t.app)
    other = await makeAccount(t.app)
    vehicleId = (await makeVehicle(t.app, acme.accountId)).id
    await makeRule(t.app, acme.accountId, { code: 'P0300' })
  })
  after(() => t.close())

  describe('the envelope, checked before anything is queued', () => {
    const invalid = async (payload: unknown, errors: Record<string, string[]>) => {
      const body = expectProblem(await submit(t.app, acme, payload), 422, '/problems/validation-error')
      assert.deepEqual(body.errors, errors)
    }

    it('names an unknown resource or operation, and a pair that is not supported', async () => {
      const choose = 'is not a valid value. Please specify one of the predefined values for this field.'
      await invalid({ resource: 'driver', operation: 'create', records: [{}] }, { resource: [choose] })
      await invalid({ resource: 'fault', operation: 'delete', records: [{}] }, { operation: [choose] })
      await invalid({ resource: 'fault', operation: 'update', records: [{}] }, { operation: ['is not supported for resource fault'] })
      await invalid({ records: [{}] }, { resource: ["can't be blank"], operation: ["can't be blank"] })
    })

    it('wants records as a non-empty array of objects, at most BULK_MAX_RECORDS', async () => {
      await invalid({ resource: 'fault', operation: 'create' }, { records: ["can't be blank"] })
      await invalid({ resource: 'fault', operation: 'create', records: {} }, { records: ['must be an array'] })
      await invalid({ resource: 'fault', operation: 'create', records: [] }, { records: ["can't be blank"] })
      await invalid({ resource: 'fault', operation: 'create', records: [fault(0), 7] }, { 'records.1': ['must be an object'] })
      const six = Array.from({ length: 6 }, (_, i) => fault(i))
      await invalid({ resource: 'fault', operation: 'create', records: six }, { records: ['is too long (maximum is 5 records)'] })
      assert.equal(await countRows(t.app, 'faults', acme.accountId), 0, 'nothing was applied')
      const jobs = await t.app.database.db.selectFrom('bulk_jobs').select('id').where('account_id', '=', acme.accountId).execute()
      assert.equal(jobs.length, 0, 'nothing was queued')
    })

    it('answers a body that is not an object with 400 and one over the bulk limit with 413', async () => {
      expectProblem(await submit(t.app, acme, [fault(0)]), 400, '/problems/malformed-request')
      // BULK_MAX_RECORDS (5) × 4 KiB: a body past 20 KiB is refused before it is read.
      const huge = { resource: 'fault', operation: 'create', records: [{ ...fault(0), description: 'x'.repeat(21 * 1024) }] }
      expectProblem(await submit(t.app, acme, huge), 413)
      // A body over the ordinary 1 MiB limit would fit a bigger BULK_MAX_RECORDS; this one fits 5 records.
      const roomy = { resource: 'fault', operation: 'create', records: [{ ...fault(0), description: 'x'.repeat(15 * 1024) }] }
      assert.equal((await submit(t.app, acme, roomy)).statusCode, 202)
    })
  })

  it('accepts a job with 202, the job as body, Content-Location and no Location, then completes it', async () => {
    const response = await submit(t.app, acme, { resource: 'fault', operation: 'create', records: [fault(1), fault(2)] })
    assert.equal(response.statusCode, 202, response.body)
    assert.match(String(response.headers['content-type']), /^application\/json/)
    const job = response.json() as JobBody
    assert.equal(response.headers['content-location'], `/api/v1/bulk_api_jobs/${job.id}`)
    assert.equal(response.headers.location, undefined)
    assert.equal(response.headers['retry-after'], '1')
    assert.equal(response.headers['cache-control'], 'no-store')
    assert.deepEqual(Object.keys(job).sort(), [
      'completed_at',
      'created_at',
      'failed_count',
      'id',
      'operation',
      'records_count',
      'resource',
      'results',
      'started_at',
      'status',
      'succeeded_count',
    ])
    assert.equal(job.status, 'queued')
    assert.equal(job.records_count, 2)
    assert.deepEqual([job.succeeded_count, job.failed_count, job.results, job.started_at, job.completed_at], [0, 0, [], null, null])

    const done = await finished(t.app, acme, job.id)
    assert.equal(done.status, 'completed')
    assert.deepEqual([done.succeeded_count, done.failed_count], [2, 0])
    assert.deepEqual(
      done.results.map(({ index, status }) => ({ index, status })),
      [
        { index: 0, status: 201 },
        { index: 1, status: 201 },
      ],
    )
    assert.ok(done.started_at && done.completed_at && done.completed_at >= done.started_at && done.started_at >= done.created_at)
    const show = await t.app.inject({ url: `/api/v1/bulk_api_jobs/${job.id}`, headers: acme.headers })
    assert.equal(show.headers['retry-after'], undefined, 'no Retry-After once completed')
    assert.ok(show.headers.etag)
    const notModified = await t.app.inject({
      url: `/api/v1/bulk_api_jobs/${job.id}`,
      headers: { ...acme.headers, 'if-none-match': String(show.headers.etag) },
    })
    assert.equal(notModified.statusCode, 304)
    for (const result of done.results) {
      const created = await t.app.inject({ url: `/api/v1/faults/${result.id}`, headers: acme.headers })
      assert.equal(created.json().external_id, `ext-${result.index + 1}`)
    }
  })

  it('says Retry-After while a job is queued or processing', async () => {
    const job = await accepted(t.app, acme, { resource: 'fault', operation: 'create', records: [fault(3)] })
    await finished(t.app, acme, job.id)
    // A job another (live) worker holds: polled, it is processing and asks to be polled again.
    await t.app.database.db
      .updateTable('bulk_jobs')
      .set({ status: 'processing', lease_owner: 'another-worker', heartbeat_at: new Date(Date.now() + 60_000).toISOString() })
      .where('id', '=', job.id)
      .execute()
    const processing = await t.app.inject({ url: `/api/v1/bulk_api_jobs/${job.id}`, headers: acme.headers })
    assert.equal(processing.json().status, 'processing')
    assert.equal(processing.headers['retry-after'], '1')
    await t.app.database.db.updateTable('bulk_jobs').set({ status: 'completed' }).where('id', '=', job.id).execute()
  })

  it('replays a job with its Idempotency-Key: 200, the same job as it is now, and nothing queued twice', async () => {
    const payload = { resource: 'fault', operation: 'create', records: [fault(4), fault(5)] }
    const key = { 'idempotency-key': 'bulk-replay-1' }
    const first = await submit(t.app, acme, payload, key)
    assert.equal(first.statusCode, 202)
    const job = first.json() as JobBody
    const done = await finished(t.app, acme, job.id)
    const again = await submit(t.app, acme, payload, key)
    assert.equal(again.statusCode, 200, again.body)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.equal(again.headers['content-location'], first.headers['content-location'])
    assert.equal(again.headers.location, undefined)
    assert.equal(again.headers['retry-after'], undefined)
    assert.deepEqual(again.json(), done)
    const hal = await submit(t.app, acme, payload, { ...key, accept: 'application/hal+json' })
    assert.equal(hal.statusCode, 200)
    assert.equal(hal.json()._links.self.href, `/api/v1/bulk_api_jobs/${job.id}`)
    assert.equal(hal.json().status, 'completed')
    const jobs = await t.app.database.db.selectFrom('bulk_jobs').select('id').where('account_id', '=', acme.accountId).execute()
    assert.equal(jobs.filter((row) => row.id > job.id).length, 0, 'no second job')
    assert.equal(await countRows(t.app, 'faults', acme.accountId), done.records_count + (await faultsBefore(job.id)))
    const reused = await submit(t.app, acme, { ...payload, records: [fault(6)] }, key)
    expectProblem(reused, 422, '/problems/idempotency-key-reused')
  })

  /** Faults created by the account's jobs before this one. */
  async function faultsBefore(jobId: number): Promise<number> {
    const row = await t.app.database.db
      .selectFrom('bulk_jobs')
      .select((eb) => eb.fn.sum<number>('succeeded_count').as('n'))
      .where('account_id', '=', acme.accountId)
      .where('resource', '=', 'fault')
      .where('id', '<', jobId)
      .executeTakeFirstOrThrow()
    return Number(row.n ?? 0)
  }

  it("answers another account's job with 404, as one that does not exist, and lists only the account's own", async () => {
    const job = await accepted(t.app, acme, { resource: 'fault', operation: 'create', records: [fault(7)] })
    expectProblem(await t.app.inject({ url: `/api/v1/bulk_api_jobs/${job.id}`, headers: other.headers }), 404)
    expectProblem(await t.app.inject({ url: '/api/v1/bulk_api_jobs/999999999', headers: acme.headers }), 404)
    const theirs = await t.app.inject({ url: '/api/v1/bulk_api_jobs', headers: other.headers })
    assert.deepEqual(theirs.json().records, [])
    // A record naming another account's vehicle is invalid there, as on POST /faults.
    const foreign = await accepted(t.app, other, { resource: 'fault', operation: 'create', records: [fault(8)] })
    const done = await finished(t.app, other, foreign.id)
    assert.deepEqual(done.results, [
      { index: 0, status: 422, errors: { vehicle_id: ['must exist'], code: ['must correspond with an existing fault rule'] } },
    ])
  })

  it('lists jobs newest first as keyset pages, without results, with filters', async () => {
    const account = await makeAccount(t.app)
    const own = (await makeVehicle(t.app, account.accountId)).id
    const ids: number[] = []
    for (let i = 0; i < 3; i++) {
      ids.push((await accepted(t.app, account, { resource: 'vehicle', operation: 'create', records: [{ name: `L${i}` }] })).id)
    }
    ids.push((await accepted(t.app, account, { resource: 'vehicle', operation: 'update', records: [{ id: own, make: 'Volvo' }] })).id)
    for (const id of ids) await finished(t.app, account, id)
    const first = await t.app.inject({ url: '/api/v1/bulk_api_jobs?per_page=3', headers: account.headers })
    assert.equal(first.statusCode, 200)
    const page = first.json()
    assert.deepEqual(
      page.records.map((job: JobBody) => job.id),
      ids.slice(1).reverse(),
    )
    assert.equal(page.records[0].results, undefined, 'lists leave results out')
    assert.equal(page.records[0].operation, 'update')
    assert.ok(page.next_cursor)
    assert.match(String(first.headers.link), /rel="next"/)
    const second = await t.app.inject({
      url: `/api/v1/bulk_api_jobs?per_page=3&start_cursor=${encodeURIComponent(page.next_cursor)}`,
      headers: account.headers,
    })
    assert.deepEqual(
      second.json().records.map((job: JobBody) => job.id),
      [ids[0]],
    )
    const updates = await t.app.inject({ url: '/api/v1/bulk_api_jobs?filter[operation][eq]=update', headers: account.headers })
    assert.deepEqual(
      updates.json().records.map((job: JobBody) => job.id),
      [ids[3]],
    )
    const completed = await t.app.inject({
      url: '/api/v1/bulk_api_jobs?filter[status][include]=completed,failed',
      headers: account.headers,
    })
    assert.equal(completed.json().records.length, 4)
    expectProblem(
      await t.app.inject({ url: '/api/v1/bulk_api_jobs?filter[records][eq]=1', headers: account.headers }),
      400,
      '/problems/invalid-parameter',
    )
    const hal = await t.app.inject({ url: '/api/v1/bulk_api_jobs', headers: { ...account.headers, accept: 'application/hal+json' } })
    assert.equal(hal.json()._embedded.records[0]._links.self.href, `/api/v1/bulk_api_jobs/${ids[3]}`)
  })

  it('lets editors and bulk:write tokens run and read jobs; viewers and other scopes get 403', async () => {
    const payload = { resource: 'fault', operation: 'create', records: [fault(9)] }
    const editor = await makeMember(t.app, acme, 'editor')
    const viewer = await makeMember(t.app, acme, 'viewer')
    const job = await accepted(t.app, editor, payload)
    expectProblem(await submit(t.app, viewer, payload), 403, '/problems/forbidden')
    expectProblem(await t.app.inject({ url: `/api/v1/bulk_api_jobs/${job.id}`, headers: viewer.headers }), 403, '/problems/forbidden')
    const client = await makeClient(t.app, acme, ['bulk:write', 'faults:write'])
    const bulkToken = await bearerToken(t.app, client, 'bulk:write')
    const faultsToken = await bearerToken(t.app, client, 'faults:write')
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
    const viaToken = await accepted(t.app, bearer(bulkToken), payload)
    assert.equal((await finished(t.app, bearer(bulkToken), viaToken.id)).status, 'completed')
    const denied = await submit(t.app, bearer(faultsToken), payload)
    expectProblem(denied, 403, '/problems/forbidden')
    assert.match(String(denied.headers['www-authenticate']), /insufficient_scope.*bulk:write/)
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/bulk_api_jobs', payload }), 401, '/problems/authentication-required')
  })

  it('answers 405 with Allow on the job path and declares the routes in the OpenAPI document', async () => {
    const response = await t.app.inject({ method: 'DELETE', url: '/api/v1/bulk_api_jobs/1', headers: acme.headers })
    expectProblem(response, 405)
    assert.equal(response.headers.allow, 'GET, HEAD, OPTIONS')
    const document = (await t.app.inject({ url: '/openapi.json' })).json()
    const post = document.paths['/api/v1/bulk_api_jobs'].post
    assert.ok(post.responses['202'].headers['Content-Location'])
    assert.ok(post.responses['413'])
    assert.ok(document.paths['/api/v1/bulk_api_jobs/{id}'].get.responses['200'].headers['Retry-After'])
  })
})
