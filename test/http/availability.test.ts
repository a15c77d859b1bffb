// Health, readiness and maintenance mode (CONTRACT §4 503 row, §12).
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'

describe(`health and availability (${engine})`, () => {
  const apps: TestApp[] = []
  after(async () => {
    for (const t of apps) await t.close()
  })

  it('answers /healthz and /readyz with 200 while the database answers', async () => {
    const t = await buildTestApp()
    apps.push(t)
    for (const url of ['/healthz', '/readyz']) {
      const response = await t.app.inject({ url })
      assert.equal(response.statusCode, 200)
      assert.deepEqual(response.json(), { status: 'ok' })
    }
  })

  it('answers /readyz with 503 and Retry-After when the database does not answer', async () => {
    const t = await buildTestApp()
    apps.push(t)
    await t.app.database.close()
    const response = await t.app.inject({ url: '/readyz' })
    expectProblem(response, 503, '/problems/service-unavailable')
    assert.match(String(response.headers['retry-after']), /^\d+$/)
    assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200)
  })

  it('answers every API route with 503 and Retry-After: 120 in maintenance mode; health still answers', async () => {
    const t = await buildTestApp({ env: { MAINTENANCE_MODE: 'true' } })
    apps.push(t)
    for (const [method, url] of [
      ['GET', '/api/v1/faults'],
      ['POST', '/api/v1/faults'],
      ['GET', '/api/v1/anything'],
      ['POST', '/oauth/token'],
    ] as const) {
      const response = await t.app.inject({ method, url })
      const body = expectProblem(response, 503, '/problems/maintenance')
      assert.equal(response.headers['retry-after'], '120', `${method} ${url}`)
      assert.equal(body.title, 'Down for maintenance')
    }
    assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200)
    assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200)
  })
})
