// Runs the real CLI in a child process, as an operator would, and calls the server it starts over real HTTP.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { engine, freshDatabaseUrl } from './app.js'

const cliArgs = ['--import', 'tsx', 'src/cli.ts']
/** The same command by absolute paths, for a child whose working directory is not the checkout. */
const absoluteCliArgs = ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../../src/cli.ts', import.meta.url))]

/** Environment for a child: `undefined` removes an inherited variable (spawn skips undefined values). */
export type ChildEnv = Record<string, string | undefined>

export interface Finished {
  code: number | null
  stdout: string
  stderr: string
}

export function runCli(args: string[], env: ChildEnv = {}, options: { cwd?: string } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.cwd ? absoluteCliArgs : cliArgs), ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A database for a child process: a temp SQLite file, or a fresh PostgreSQL schema. */
export async function processDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (engine === 'postgres') return freshDatabaseUrl()
  const dir = mkdtempSync(join(tmpdir(), 'fleet-faults-'))
  return { url: `sqlite:${join(dir, 'test.db')}`, drop: async () => {} }
}

/** A fresh empty directory, e.g. the working directory of a server on the embedded default database. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fleet-faults-'))
}

export interface Server {
  child: ChildProcess
  url: string
  output(): string
  /** Resolves with the output once it matches `pattern` (output can trail the listening line). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `fleet-faults serve` on a free port and resolves once it listens; `cwd` runs it in another directory. */
export function startServer(env: ChildEnv, args: string[] = ['--no-demo'], options: { cwd?: string } = {}): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.cwd ? absoluteCliArgs : cliArgs), 'serve', ...args], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    })
    let output = ''
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
    // A server that never says it listens is killed, or it would keep the test process from exiting.
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`server did not start:\n${output}`))
    }, 20_000)
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = output.match(/listening on (http:\/\/[0-9.:]+)/)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve({
          child,
          url: match[1],
          output: () => output,
          async waitFor(pattern, timeoutMs = 10_000) {
            const deadline = Date.now() + timeoutMs
            while (!pattern.test(output)) {
              if (Date.now() > deadline || child.exitCode !== null) throw new Error(`output never matched ${pattern}:\n${output}`)
              await new Promise((tick) => setTimeout(tick, 20))
            }
            return output
          },
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null) child.kill(signal)
            return exited
          },
        })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${output}`))
    })
  })
}

export interface CliAccount {
  accountId: number
  accountToken: string
  apiKey: string
  /** Authorization and Account-Token for the account's API key. */
  headers: Record<string, string>
}

/** `fleet-faults accounts create --json` on the env's database. */
export async function cliAccount(env: ChildEnv, name: string, email: string): Promise<CliAccount> {
  const created = await runCli(['accounts', 'create', '--name', name, '--email', email, '--json'], env)
  assert.equal(created.code, 0, created.stderr)
  const { account, api_key: apiKey } = JSON.parse(created.stdout) as { account: { id: number; account_token: string }; api_key: string }
  const headers = { authorization: `Token ${apiKey}`, 'account-token': account.account_token }
  return { accountId: account.id, accountToken: account.account_token, apiKey, headers }
}

/** A JSON call to a running server; asserts a 2xx (naming the answer otherwise) and returns the parsed body. */
export async function api<T>(server: Server, headers: Record<string, string>, method: string, path: string, body?: object): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...headers, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`)
  return (await response.json()) as T
}

/** Every fault of the account, page by page. */
export async function allFaults<T extends { id: number }>(server: Server, headers: Record<string, string>): Promise<T[]> {
  const records: T[] = []
  let cursor: string | null = null
  do {
    const query: string = cursor ? `&start_cursor=${encodeURIComponent(cursor)}` : ''
    const page: { records: T[]; next_cursor: string | null } = await api(server, headers, 'GET', `/api/v1/faults?per_page=100${query}`)
    records.push(...page.records)
    cursor = page.next_cursor
  } while (cursor)
  return records
}
