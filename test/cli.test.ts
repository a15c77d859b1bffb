// The operator's contract (CONTRACT §12): serve, migrate, --help, and bad settings exiting non-zero.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engine } from './helpers/app.js'
import { processDatabase, runCli, startServer } from './helpers/process.js'

describe(`fleet-faults command (${engine})`, () => {
  it('prints help for itself and for each command', async () => {
    const top = await runCli(['--help'])
    assert.equal(top.code, 0)
    assert.match(top.stdout, /serve/)
    assert.match(top.stdout, /migrate/)
    for (const command of ['serve', 'migrate']) {
      const help = await runCli([command, '--help'])
      assert.equal(help.code, 0)
      assert.match(help.stdout, new RegExp(`Usage: fleet-faults ${command}`))
    }
  })

  it('exits non-zero on an unknown command', async () => {
    const result = await runCli(['frobnicate'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /unknown command 'frobnicate'/)
  })

  for (const [name, value] of [
    ['PORT', 'abc'],
    ['DATABASE_URL', 'mysql://x'],
  ] as const) {
    it(`exits non-zero naming ${name} when it is ${value}`, async () => {
      const result = await runCli(['serve'], { [name]: value })
      assert.equal(result.code, 1)
      assert.match(result.stderr, new RegExp(`${name}=`))
    })
  }

  it('migrates a new database, and says so when it is up to date', async () => {
    const database = await processDatabase()
    try {
      const first = await runCli(['migrate'], { DATABASE_URL: database.url })
      assert.equal(first.code, 0, first.stderr)
      assert.match(first.stdout, /Applied \d+ migration/)
      const second = await runCli(['migrate'], { DATABASE_URL: database.url })
      assert.equal(second.code, 0, second.stderr)
      assert.match(second.stdout, /Schema is up to date/)
    } finally {
      await database.drop()
    }
  })

  it('serves until SIGTERM, then exits 0', async () => {
    const database = await processDatabase()
    try {
      const server = await startServer({ DATABASE_URL: database.url })
      const response = await fetch(`${server.url}/readyz`)
      assert.equal(response.status, 200)
      assert.equal(await server.stop('SIGTERM'), 0)
      assert.match(server.output(), /draining/)
    } finally {
      await database.drop()
    }
  })
})
