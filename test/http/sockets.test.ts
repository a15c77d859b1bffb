// What only a real socket shows: requests Node's parser rejects, and draining on shutdown.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import { buildTestApp, engine, type TestApp } from '../helpers/app.js'

function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request))
    let data = ''
    socket.on('data', (chunk) => {
      data += chunk
    })
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
}

function statusOf(response: string): number {
  return Number(response.split(' ')[1])
}

function bodyOf(response: string): Record<string, unknown> {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))
}

describe(`real sockets (${engine})`, () => {
  let t: TestApp
  let port: number
  before(async () => {
    t = await buildTestApp({
      extend(app) {
        app.post('/test/echo', async (request) => request.body)
        app.get('/test/slow', async () => {
          await new Promise((resolve) => setTimeout(resolve, 400))
          return { done: true }
        })
      },
    })
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    port = (t.app.server.address() as net.AddressInfo).port
  })
  after(() => t.close())

  it('answers a bad Content-Length with a 400 problem', async () => {
    const response = await raw(
      port,
      'POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
    )
    assert.equal(statusOf(response), 400)
    assert.match(response, /Content-Type: application\/problem\+json/i)
    assert.equal(bodyOf(response).status, 400)
  })

  it('answers a body shorter than its Content-Length with a 400 problem', async () => {
    const response = await raw(
      port,
      'POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"a":1}',
    )
    assert.equal(statusOf(response), 400)
    assert.equal(bodyOf(response).type, '/problems/malformed-request')
  })

  it('answers a method token HTTP does not know with a 501 problem', async () => {
    const response = await raw(port, 'FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    assert.equal(statusOf(response), 501)
    assert.equal(bodyOf(response).title, 'Not Implemented')
  })

  it('drains on close: the in-flight request finishes, a new one on its connection gets 503, the database closes', async () => {
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    socket.on('data', (chunk) => {
      received += chunk
    })
    const ended = new Promise((resolve) => socket.on('close', resolve))
    socket.write('GET /test/slow HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = Date.now()
    const closing = t.app.close()
    // A new request on the open connection while the first is still in flight.
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    await closing
    await ended
    const responses = received.split(/(?=HTTP\/1\.1 )/)
    assert.equal(responses.length, 2, `both requests answered: ${received}`)
    assert.equal(statusOf(responses[0] ?? ''), 200)
    assert.deepEqual(bodyOf(responses[0] ?? ''), { done: true })
    assert.equal(statusOf(responses[1] ?? ''), 503)
    assert.match(responses[1] ?? '', /Retry-After: \d+/i)
    assert.match(responses[1] ?? '', /Connection: close/i)
    assert.equal(bodyOf(responses[1] ?? '').type, '/problems/service-unavailable')
    assert.ok(Date.now() - started < 5000, 'close does not wait for keep-alive timeouts')
    assert.equal(await t.app.database.ping(), false)
  })
})
