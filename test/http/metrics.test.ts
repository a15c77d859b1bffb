// /metrics: request latency per route pattern, method and status, in Prometheus text.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { buildTestApp, engine, type TestApp } from '../helpers/app.js'

describe(`metrics (${engine})`, () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  /** The count of one series of the request-duration histogram, 0 when absent. */
  async function requestCount(labels: string): Promise<number> {
    const text = (await t.app.inject({ url: '/metrics' })).body
    const line = text.split('\n').find((entry) => entry.startsWith(`fleet_faults_http_request_duration_seconds_count{${labels}}`))
    return line ? Number(line.split(' ').at(-1)) : 0
  }

  it('counts each response under its route pattern, method and status', async () => {
    const healthz = 'method="GET",route="/healthz",status="200"'
    const missing = 'method="GET",route="unmatched",status="404"'
    const before = { healthz: await requestCount(healthz), missing: await requestCount(missing) }
    for (let i = 0; i < 3; i++) assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200)
    assert.equal((await t.app.inject({ url: '/api/v1/no-such-thing' })).statusCode, 404)
    assert.equal((await t.app.inject({ url: '/api/v1/other-thing' })).statusCode, 404)
    assert.equal(await requestCount(healthz), before.healthz + 3)
    assert.equal(await requestCount(missing), before.missing + 2, 'unmatched paths share one series')
    const text = (await t.app.inject({ url: '/metrics' })).body
    assert.match(text, /fleet_faults_http_request_duration_seconds_bucket\{le="0\.001",method="GET",route="\/healthz",status="200"\} \d+/)
    assert.match(text, /fleet_faults_http_request_duration_seconds_sum\{method="GET",route="\/healthz",status="200"\} \d/)
    // Buckets are cumulative: +Inf holds every observation of the series.
    const inf = text.match(
      /fleet_faults_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/healthz",status="200"\} (\d+)/,
    )
    assert.equal(Number(inf?.[1]), await requestCount(healthz))
  })
})
