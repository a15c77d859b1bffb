// Runs the real CLI in a child process, as an operator would.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engine, freshDatabaseUrl } from './app.js'

const cliArgs = ['--import', 'tsx', 'src/cli.ts']

export interface Finished {
  code: number | null
  stdout: string
  stderr: string
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliArgs, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } })
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

export interface Server {
  child: ChildProcess
  url: string
  output(): string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `fleet-faults serve` on a free port and resolves once it listens. */
export function startServer(env: Record<string, string>, args: string[] = ['--no-demo']): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliArgs, 'serve', ...args], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    })
    let output = ''
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000)
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = output.match(/listening on (http:\/\/[0-9.:]+)/)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve({
          child,
          url: match[1],
          output: () => output,
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
