// The operator's contract (CONTRACT §12): serve, migrate, accounts create, --help, the demo, bad settings exiting non-zero.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DEMO_EMAIL } from '../src/demo.js'
import { engine } from './helpers/app.js'
import { processDatabase, runCli, type Server, startServer, tempDir } from './helpers/process.js'

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

  describe('accounts create', () => {
    it('with --json prints exactly the account, its admin and a key that works against a server on the same database', async () => {
      const database = await processDatabase()
      try {
        const created = await runCli(['accounts', 'create', '--name', 'Acme Fleet', '--email', 'Ops@Example.com', '--json'], {
          DATABASE_URL: database.url,
        })
        assert.equal(created.code, 0, created.stderr)
        const printed = JSON.parse(created.stdout)
        assert.equal(created.stdout.trim().split('\n').length, 1, 'one line of JSON, nothing else on stdout')
        assert.deepEqual(Object.keys(printed).sort(), ['account', 'api_key', 'user'])
        assert.deepEqual(Object.keys(printed.account).sort(), ['account_token', 'id', 'name'])
        assert.deepEqual(Object.keys(printed.user).sort(), ['email', 'id'])
        assert.equal(printed.account.name, 'Acme Fleet')
        assert.ok(Number.isInteger(printed.account.id) && printed.account.id > 0)
        assert.match(printed.account.account_token, /^[0-9a-f]{24}$/)
        assert.ok(Number.isInteger(printed.user.id) && printed.user.id > 0)
        assert.equal(printed.user.email, 'ops@example.com')
        assert.match(printed.api_key, /^ffk_[\w-]{32}$/)

        const server = await startServer({ DATABASE_URL: database.url })
        try {
          const headers = { authorization: `Token ${printed.api_key}`, 'account-token': printed.account.account_token }
          const me = await fetch(`${server.url}/api/v1/users/me`, { headers })
          assert.equal(me.status, 200)
          const user = (await me.json()) as Record<string, unknown>
          assert.equal(user.id, printed.user.id)
          assert.equal(user.email, 'ops@example.com')
          assert.equal(user.role, 'admin')
          const newKey = await fetch(`${server.url}/api/v1/api_keys`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ name: 'second' }),
          })
          assert.equal(newKey.status, 201, 'the admin can make more keys')
        } finally {
          assert.equal(await server.stop(), 0)
        }
      } finally {
        await database.drop()
      }
    })

    it('without --json prints the credentials as lines for a human', async () => {
      const database = await processDatabase()
      try {
        const created = await runCli(['accounts', 'create', '--name', 'Globex', '--email', 'boss@globex.test'], {
          DATABASE_URL: database.url,
        })
        assert.equal(created.code, 0, created.stderr)
        assert.match(created.stdout, /^Created account \d+ "Globex" with admin boss@globex\.test\.$/m)
        assert.match(created.stdout, /^ {2}Account-Token: [0-9a-f]{24}$/m)
        assert.match(created.stdout, /^ {2}API key: +ffk_[\w-]{32} +\(shown once; store it now\)$/m)
        assert.throws(() => JSON.parse(created.stdout), SyntaxError)
      } finally {
        await database.drop()
      }
    })

    for (const [what, args] of [
      ['--email', ['accounts', 'create', '--name', 'Acme']],
      ['--name', ['accounts', 'create', '--email', 'a@b.test']],
      ['a valid email', ['accounts', 'create', '--name', 'Acme', '--email', 'not-an-email']],
      ['the create subcommand', ['accounts', '--name', 'Acme', '--email', 'a@b.test']],
    ] as const) {
      it(`exits 1 with the usage without ${what}, creating nothing`, async () => {
        const database = await processDatabase()
        try {
          const result = await runCli([...args], { DATABASE_URL: database.url })
          assert.equal(result.code, 1)
          assert.equal(result.stdout, '')
          assert.match(result.stderr, /usage: fleet-faults accounts create --name <name> --email <email> \[--json\]/)
          const migrated = await runCli(['migrate'], { DATABASE_URL: database.url })
          assert.match(migrated.stdout, /Applied \d+ migration/, 'the database was not even migrated')
        } finally {
          await database.drop()
        }
      })
    }

    it('prints its options with --help', async () => {
      const help = await runCli(['accounts', '--help'])
      assert.equal(help.code, 0)
      assert.match(help.stdout, /Usage: fleet-faults accounts create --name <name> --email <email>/)
    })
  })

  describe('the demo on the embedded default database', () => {
    // The demo only ever touches ./data/fleet-faults.db, so this runs on SQLite whatever the engine under test.
    const embedded = { DATABASE_URL: undefined }
    const DEMO_BANNER = /A demo account[\s\S]*?curl -s (\S+) -H "Authorization: Token (ffk_[\w-]+)" -H "Account-Token: ([0-9a-f]+)"/
    const NO_DEMO = /try: curl -i http:\/\/[0-9.:]+\/healthz\n/

    async function stopped(server: Server) {
      assert.equal(await server.stop(), 0)
      return server.output()
    }

    it('is created on first start in a new directory, with a curl command that works; a second start prints no credentials', async () => {
      const cwd = tempDir()
      const first = await startServer(embedded, [], { cwd })
      let banner: RegExpMatchArray | null
      try {
        banner = (await first.waitFor(DEMO_BANNER)).match(DEMO_BANNER)
        const [, url, apiKey, accountToken] = banner ?? []
        assert.ok(String(url).startsWith(`${first.url}/api/v1/`), `the command calls this server: ${url}`)
        assert.ok(existsSync(join(cwd, 'data', 'fleet-faults.db')), 'the embedded database is ./data/fleet-faults.db')
        const headers = { Authorization: `Token ${apiKey}`, 'Account-Token': String(accountToken) }
        const response = await fetch(String(url), { headers })
        assert.equal(response.status, 200, 'the printed command works as printed')
        const me = await fetch(`${first.url}/api/v1/users/me`, { headers })
        const user = (await me.json()) as Record<string, unknown>
        assert.equal(user.email, DEMO_EMAIL)
        assert.equal(user.role, 'admin')
      } finally {
        await stopped(first)
      }

      const second = await startServer(embedded, [], { cwd })
      try {
        await second.waitFor(NO_DEMO)
      } finally {
        const output = await stopped(second)
        assert.doesNotMatch(output, /demo account|API key|Account-Token|ffk_/)
        assert.ok(!output.includes(String(banner?.[2])), 'the key is never printed again')
      }
    })

    it('is not created with --no-demo, which prints no credentials', async () => {
      const cwd = tempDir()
      const server = await startServer(embedded, ['--no-demo'], { cwd })
      try {
        await server.waitFor(NO_DEMO)
      } finally {
        assert.doesNotMatch(await stopped(server), /demo account|API key|Account-Token|ffk_/)
      }
      // No account was made: a later start with the demo still finds an empty database and creates it.
      const later = await startServer(embedded, [], { cwd })
      try {
        await later.waitFor(DEMO_BANNER)
      } finally {
        await stopped(later)
      }
    })

    it('is never created on a database the operator chose', async () => {
      const database = await processDatabase()
      try {
        const server = await startServer({ DATABASE_URL: database.url }, [])
        try {
          await server.waitFor(NO_DEMO)
        } finally {
          assert.doesNotMatch(await stopped(server), /demo account|API key|ffk_/)
        }
      } finally {
        await database.drop()
      }
    })
  })
})
