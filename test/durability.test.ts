// No acknowledged write lost, none duplicated (issue: write safety): concurrent creates with
// Idempotency-Keys, SIGKILL mid-stream, restart, retry the unanswered ones with their keys.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { engine } from './helpers/app.js'
import { allFaults, api, cliAccount, processDatabase, type Server, startServer } from './helpers/process.js'

/** Kill-and-restart cycles per test run (each on a fresh database). */
const RUNS = Number(process.env.DURABILITY_RUNS ?? 3)
const CREATES = 240
const CONCURRENCY = 16
/** The server is killed once this many creates were acknowledged, with more in flight. */
const KILL_AFTER = 60

interface Outcome {
  status: number
  id?: number
}

async function send(server: Server, headers: Record<string, string>, key: string, body: object): Promise<Outcome> {
  const response = await fetch(`${server.url}/api/v1/faults`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, ...(response.ok ? { id: JSON.parse(text).id as number } : {}) }
}

/** Retries a key until it is answered (409: a twin of it is still in flight). */
async function settle(server: Server, headers: Record<string, string>, key: string, body: object): Promise<Outcome> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const outcome = await send(server, headers, key, body)
    if (outcome.status !== 409) return outcome
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`key ${key} still in use after retries`)
}

describe(`durability under SIGKILL (${engine})`, () => {
  for (let run = 1; run <= RUNS; run++) {
    it(`run ${run}: every acknowledged create survives, retries with their keys create no duplicates`, async () => {
      const database = await processDatabase()
      const env = {
        DATABASE_URL: database.url,
        RATE_LIMIT_QUOTA: '1000000',
        REDIS_KEY_PREFIX: `durability-${randomBytes(4).toString('hex')}:`,
      }
      let server: Server | undefined
      try {
        const { headers } = await cliAccount(env, 'Durable', `durable-${run}@example.com`)
        server = await startServer(env)
        const vehicle = await api<{ id: number }>(server, headers, 'POST', '/api/v1/vehicles', { name: 'Truck' })
        await api<object>(server, headers, 'POST', '/api/v1/fault_rules', { code: 'P0300' })

        const requests = Array.from({ length: CREATES }, (_, i) => ({
          key: `run${run}-create-${i}`,
          body: { vehicle_id: vehicle.id, code: 'P0300', count: i + 1, external_id: `fault-${i}` },
        }))
        const acknowledged = new Map<string, number>()
        const unanswered: typeof requests = []
        let next = 0
        const victim = server
        const worker = async () => {
          while (next < requests.length) {
            const request = requests[next++]
            if (!request) break
            try {
              const outcome = await send(victim, headers, request.key, request.body)
              if (outcome.id !== undefined) acknowledged.set(request.key, outcome.id)
              else unanswered.push(request)
            } catch {
              unanswered.push(request) // the connection died with the server
            }
            if (acknowledged.size >= KILL_AFTER && victim.child.exitCode === null) victim.child.kill('SIGKILL')
          }
        }
        await Promise.all(Array.from({ length: CONCURRENCY }, worker))
        assert.equal(await victim.stop(), null, 'the server was killed, not stopped')
        assert.ok(
          acknowledged.size >= KILL_AFTER && unanswered.length > 0,
          `${acknowledged.size} acknowledged, ${unanswered.length} unanswered`,
        )

        server = await startServer(env)
        const restarted = server
        for (const request of unanswered) {
          const outcome = await settle(restarted, headers, request.key, request.body)
          assert.ok(outcome.status === 201 || outcome.status === 200, `${request.key}: ${outcome.status}`)
          if (outcome.id !== undefined) acknowledged.set(request.key, outcome.id)
        }
        // A few acknowledged ones again: replayed, same id.
        for (const request of requests.slice(0, 5)) {
          const outcome = await send(restarted, headers, request.key, request.body)
          assert.equal(outcome.status, 200)
          assert.equal(outcome.id, acknowledged.get(request.key))
        }

        const faults = await allFaults<{ id: number; idempotency_key: string | null; external_id: string | null }>(restarted, headers)
        assert.equal(faults.length, CREATES, 'one fault per request, none lost, none doubled')
        assert.equal(new Set(faults.map((fault) => fault.external_id)).size, CREATES)
        const byKey = new Map(faults.map((fault) => [fault.idempotency_key, fault.id]))
        for (const [key, id] of acknowledged) assert.equal(byKey.get(key), id, `acknowledged ${key} is fault ${id}`)
        assert.equal(await restarted.stop('SIGTERM'), 0)
      } finally {
        if (server && server.child.exitCode === null) await server.stop('SIGKILL')
        await database.drop()
      }
    })
  }
})
