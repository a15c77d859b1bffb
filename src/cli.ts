// The `fleet-faults` command: serve, migrate, accounts and import.
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.js'
import { createDatabase } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'
import { runImport } from './import/importer.js'
import { importHelp, importOptionSpec, importOptions, importSummary, importUsage } from './import/options.js'
import { ImportError } from './import/records.js'
import { createAccount } from './modules/identity/members.repository.js'
import { serve } from './server.js'

interface Command {
  usage: string
  summary: string
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options']
  positionals?: string
  /** Help text of the command's own; the environment's settings are shown when it has none. */
  help?: string
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void>
}

const commands: Record<string, Command> = {
  serve: {
    usage: 'fleet-faults serve [--no-demo]',
    summary: 'Migrate the database if needed, then serve until SIGTERM/SIGINT (drains in-flight requests, exits 0).',
    options: { 'no-demo': { type: 'boolean' } },
    async run(values) {
      await serve(loadConfig(), { demo: !values['no-demo'] })
    },
  },
  migrate: {
    usage: 'fleet-faults migrate',
    summary: 'Bring the database schema up to date and exit.',
    options: {},
    async run() {
      const database = createDatabase(loadConfig())
      try {
        const result = await migrateToLatest(database.db)
        const applied = result.results ?? []
        console.log(applied.length === 0 ? 'Schema is up to date.' : `Applied ${applied.length} migration(s):`)
        for (const migration of applied) console.log(`  ${migration.migrationName}`)
      } finally {
        await database.close()
      }
    },
  },
  accounts: {
    usage: 'fleet-faults accounts create --name <name> --email <email> [--first-name <f>] [--last-name <l>] [--json]',
    summary: 'Create an account, its first admin user and an API key (printed once).',
    positionals: 'create',
    options: {
      name: { type: 'string' },
      email: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      json: { type: 'boolean' },
    },
    async run(values, positionals) {
      const { name, email } = values
      if (positionals[0] !== 'create' || typeof name !== 'string' || typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) {
        throw new UsageError('usage: fleet-faults accounts create --name <name> --email <email> [--json]')
      }
      const database = createDatabase(loadConfig())
      try {
        await migrateToLatest(database.db)
        const created = await database.db.transaction().execute((trx) =>
          createAccount(trx, {
            name,
            email,
            first_name: values['first-name'] as string | undefined,
            last_name: values['last-name'] as string | undefined,
          }),
        )
        if (values.json) {
          console.log(JSON.stringify(created))
          return
        }
        console.log(`Created account ${created.account.id} "${created.account.name}" with admin ${created.user.email}.`)
        console.log(`  Account-Token: ${created.account.account_token}`)
        console.log(`  API key:       ${created.api_key}   (shown once; store it now)`)
      } finally {
        await database.close()
      }
    },
  },
  import: {
    usage: importUsage,
    summary: importSummary,
    help: importHelp,
    positionals: '<file>',
    options: importOptionSpec,
    async run(values, positionals) {
      const options = importOptions(values, positionals)
      process.once('SIGINT', () => {
        console.error('\nInterrupted. Run the same command again to resume: jobs already sent are replayed, not duplicated.')
        process.exit(130)
      })
      const summary = await runImport(options, { stdout: process.stdout, stderr: process.stderr })
      if (summary.failedJobs > 0)
        throw new ImportError(`${summary.failedJobs} bulk job(s) failed on the server; their rows are in the rejected file`)
    },
  },
}

class UsageError extends Error {}

const environmentHelp = `Settings come from the environment (all optional): PORT, HOST, DATABASE_URL,
SQLITE_SYNCHRONOUS, REDIS_URL, RATE_LIMIT_QUOTA, RATE_LIMIT_WINDOW_SECONDS, BULK_MAX_RECORDS,
MAINTENANCE_MODE, LOG_LEVEL. See the README.`

function printHelp(): void {
  console.log('Usage: fleet-faults <command> [options]\n\nCommands:')
  for (const [name, command] of Object.entries(commands)) console.log(`  ${name.padEnd(10)} ${command.summary}`)
  console.log(`\nRun 'fleet-faults <command> --help' for a command's options.\n\n${environmentHelp}`)
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    printHelp()
    return name === undefined ? 1 : 0
  }
  const command = commands[name]
  if (!command) {
    console.error(`fleet-faults: unknown command '${name}'\n`)
    printHelp()
    return 1
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.positionals !== undefined,
    })
    if (values.help) {
      console.log(`Usage: ${command.usage}\n\n${command.summary}\n\n${command.help ?? environmentHelp}`)
      return 0
    }
    await command.run(values, positionals)
    return 0
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof UsageError ||
      error instanceof ImportError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`fleet-faults ${name}: ${(error as Error).message}`)
      return 1
    }
    throw error
  }
}

const code = await main(process.argv.slice(2))
if (code !== 0) process.exit(code)
