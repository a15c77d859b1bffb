// `fleet-faults import` as an operator runs it: its help, then real imports of 2,500 CSV rows into a
// live server through bulk jobs: the rejected file by line, a re-run replayed, a crash resumed.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { engine } from '../helpers/app.js'
import { allFaults, api, cliAccount, processDatabase, runCli, type Server, startServer } from '../helpers/process.js'

const dir = mkdtempSync(join(tmpdir(), 'fleet-faults-import-command-'))

type Headers = Record<string, string>
type Errors = Record<string, string[]>

interface FaultRow {
  id: number
  count: number
  description: string | null
  external_id: string | null
}

interface Live {
  server: Server
  headers: Headers
  /** The import command line for `file`, without --batch-size. */
  args(file: string): string[]
  vehicleId: number
}

/** Runs `run` against a server on a fresh database with an account, a vehicle and rule P0300; skips without the bulk API. */
async function live(t: TestContext, run: (live: Live) => Promise<void>): Promise<void> {
  const database = await processDatabase()
  const server = await startServer({ DATABASE_URL: database.url, RATE_LIMIT_QUOTA: '100000' })
  try {
    const { headers, apiKey, accountToken } = await cliAccount({ DATABASE_URL: database.url }, 'Importers', 'ops@import.test')
    const probe = await fetch(`${server.url}/api/v1/bulk_api_jobs`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{}',
    })
    if (probe.status === 404 || probe.status === 501) return t.skip('bulk API server not available yet')
    const vehicle = await api<{ id: number }>(server, headers, 'POST', '/api/v1/vehicles', { name: 'Truck 1' })
    await api(server, headers, 'POST', '/api/v1/fault_rules', { code: 'P0300', name: 'Random misfire' })
    const args = (file: string) => [
      'import',
      file,
      '--resource',
      'fault',
      '--url',
      server.url,
      '--api-key',
      apiKey,
      '--account-token',
      accountToken,
    ]
    await run({ server, headers, args, vehicleId: vehicle.id })
  } finally {
    assert.equal(await server.stop(), 0)
    await database.drop()
  }
}

/** 2,500 rows with CRLF endings: every 100th is bad, of four kinds (one never sent); row 1234 spans two lines. */
function faultsCsv(name: string, vehicleId: number): { file: string; errors: Map<number, Errors>; valid: Set<string> } {
  const kinds: [(i: number) => string, Errors][] = [
    [(i) => `${vehicleId},NOPE,1,,row-${i}`, { code: ['must correspond with an existing fault rule'] }],
    [(i) => `${vehicleId},P0300,0,,row-${i}`, { count: ['must be greater than or equal to 1'] }],
    [(i) => `,P0300,1,,row-${i}`, { vehicle_id: ["can't be blank"] }],
    [(i) => `${vehicleId},"P0300"junk,1,,row-${i}`, { base: ['is not valid CSV: unexpected "j" after a closing quote'] }],
  ]
  const lines = ['vehicle_id,code,count,description,external_id']
  const errors = new Map<number, Errors>()
  const valid = new Set<string>()
  let line = 2
  for (let i = 1; i <= 2500; i++) {
    let text = `${vehicleId},P0300,${(i % 7) + 1},"Misfire, row ${i}",row-${i}`
    const kind = i % 100 === 0 ? kinds[(i / 100) % 4] : undefined
    if (kind) {
      text = kind[0](i)
      errors.set(line, kind[1])
    } else {
      if (i === 1234) text = `${vehicleId},P0300,1,"first line\nsecond line",row-${i}`
      valid.add(`row-${i}`)
    }
    lines.push(text)
    line += text.split('\n').length
  }
  const file = join(dir, name)
  writeFileSync(file, `${lines.join('\r\n')}\r\n`)
  return { file, errors, valid }
}

describe(`fleet-faults import (${engine})`, () => {
  it('prints its help, and exits 1 naming a missing option', async () => {
    const help = await runCli(['import', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^Usage: fleet-faults import <file\.csv\|file\.ndjson> --url <base> --api-key <key> --account-token <token>/)
    assert.match(help.stdout, /--batch-size <n> +records per bulk job \(default 1000/)
    assert.match(help.stdout, /Idempotency-Key/)
    const top = await runCli(['--help'])
    assert.match(top.stdout, /^ {2}import +Import faults/m)

    const missing = await runCli(['import', join(dir, 'faults.csv'), '--api-key', 'k', '--account-token', 't'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^fleet-faults import: --url is required\nusage: fleet-faults import /)
  })

  it('imports 2,500 CSV rows through bulk jobs, files the bad ones by line, and a re-run duplicates nothing', (t) =>
    live(t, async ({ server, headers, args, vehicleId }) => {
      const { file, errors, valid } = faultsCsv('faults-e2e.csv', vehicleId)
      const first = await runCli([...args(file), '--batch-size', '1000'])
      assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`)
      assert.match(first.stdout, /^job \d+ \(batch 1, lines 2-\d+\) completed: \d+ created, \d+ rejected/m)
      assert.match(
        first.stdout,
        / {2}records read: 2,500\n {2}created: {6}2,475\n {2}rejected: {5}25 \(written to .*faults-e2e\.csv\.rejected\.ndjson\)\n {2}jobs: {9}3\n/,
      )

      const rejected = readFileSync(`${file}.rejected.ndjson`, 'utf8')
        .trim()
        .split('\n')
        .map((text) => JSON.parse(text) as { line: number; index: number | null; record: unknown; errors: Errors })
        .sort((a, b) => a.line - b.line)
      assert.deepEqual(
        rejected.map((entry) => [entry.line, entry.errors]),
        [...errors.entries()].sort(([a], [b]) => a - b),
      )
      assert.deepEqual(rejected.find((entry) => entry.errors.code)?.record, {
        vehicle_id: vehicleId,
        code: 'NOPE',
        count: 1,
        external_id: 'row-400',
      })
      assert.ok(rejected.every((entry) => (entry.errors.base ? entry.index === null : Number.isInteger(entry.index))))

      const faults = await allFaults<FaultRow>(server, headers)
      assert.equal(faults.length, 2475)
      assert.deepEqual(new Set(faults.map((fault) => fault.external_id)), valid, 'exactly the valid rows, each once')
      assert.equal(faults.find((fault) => fault.external_id === 'row-1234')?.description, 'first line\nsecond line')
      assert.equal(faults.find((fault) => fault.external_id === 'row-5')?.count, 6)

      const again = await runCli([...args(file), '--batch-size', '1000'])
      assert.equal(again.code, 0, again.stderr)
      assert.match(again.stdout, / {2}created: {6}2,475\n {2}rejected: {5}25 .*\n {2}jobs: {9}3 \(3 replayed from an earlier run\)/)
      assert.equal((await allFaults<FaultRow>(server, headers)).length, 2475, 'the re-run created nothing')
    }))

  it('resumes after being killed mid-import: the jobs already sent are replayed, none doubled', (t) =>
    live(t, async ({ server, headers, args, vehicleId }) => {
      const { file, valid } = faultsCsv('faults-crash.csv', vehicleId)
      const command = [...args(file), '--batch-size', '100', '--concurrency', '2']
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...command], { env: { ...process.env, LOG_LEVEL: 'warn' } })
      let output = ''
      const killed = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)))
      child.stdout.on('data', (chunk) => {
        output += chunk
        if ((output.match(/^job /gm) ?? []).length >= 3) child.kill('SIGKILL')
      })
      assert.equal(await killed, 'SIGKILL', output)
      assert.ok((await allFaults<FaultRow>(server, headers)).length < valid.size, 'stopped part way')

      const resumed = await runCli([...command, '--concurrency', '5'])
      assert.equal(resumed.code, 0, resumed.stderr)
      const replayed = Number(/jobs: +25 \((\d+) replayed/.exec(resumed.stdout)?.[1])
      assert.ok(replayed >= 3, resumed.stdout)
      assert.match(resumed.stdout, / {2}created: {6}2,475\n/)
      const faults = await allFaults<FaultRow>(server, headers)
      assert.equal(faults.length, valid.size, 'each valid row exactly once')
      assert.deepEqual(new Set(faults.map((fault) => fault.external_id)), valid)
    }))
})
