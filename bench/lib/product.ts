// The product as a bench target: how it is run (compiled or tsx), its credentials (the CLI) and API setup calls.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from './config.js'
import { HOST } from './servers.js'

const run = promisify(execFile)
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`)

/**
 * `dist` (default): the product compiled by tsc (tsconfig.build.json) into bench/.build/dist and run with
 * plain `node`, as `fleet-faults serve` runs in production. `tsx`: `node --import tsx src/cli.ts`.
 */
export const PRODUCT_RUNTIME: 'dist' | 'tsx' = process.env.BENCH_PRODUCT_RUNTIME === 'tsx' ? 'tsx' : 'dist'

const BUILD_DIR = path.join(REPO_ROOT, 'bench', '.build')
const DIST_CLI = path.join('bench', '.build', 'dist', 'cli.js')

/** BENCH_CPU_PROF=<dir>: product servers run with --cpu-prof, one <server id>.cpuprofile each (see profile-summary.ts). */
export const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : null

/** BENCH_PRODUCT_NODE_ARGS: extra node/V8 flags for the product's processes (e.g. `--max-semi-space-size=32`), whitespace-separated. */
const PRODUCT_NODE_ARGS = (process.env.BENCH_PRODUCT_NODE_ARGS ?? '').split(/\s+/).filter((arg) => arg !== '')

/** Node arguments that run the product CLI (relative to the repo root, the children's cwd). */
export function productCli(profileName?: string): string[] {
  const nodeArgs = [
    ...PRODUCT_NODE_ARGS,
    ...(CPU_PROF_DIR && profileName ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR, '--cpu-prof-name', `${profileName}.cpuprofile`] : []),
  ]
  return PRODUCT_RUNTIME === 'tsx' ? [...nodeArgs, '--import', 'tsx', 'src/cli.ts'] : [...nodeArgs, DIST_CLI]
}

export function productAvailable(): string | undefined {
  return existsSync(path.join(REPO_ROOT, 'src/cli.ts')) ? undefined : 'src/cli.ts does not exist yet'
}

/** Every file of src with its mtime and size: the build is redone when this changes. */
function sourceStamp(): string {
  const lines: string[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else {
        const st = statSync(full)
        lines.push(`${path.relative(REPO_ROOT, full)} ${st.mtimeMs} ${st.size}`)
      }
    }
  }
  walk(path.join(REPO_ROOT, 'src'))
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) {
    const full = path.join(REPO_ROOT, file)
    if (existsSync(full)) lines.push(`${file} ${statSync(full).mtimeMs}`)
  }
  return lines.sort().join('\n')
}

let building: Promise<void> | null = null

/** Compiles src into bench/.build/dist once per bench run (skipped when src has not changed since the last build). */
export function ensureBuilt(): Promise<void> {
  if (PRODUCT_RUNTIME !== 'dist') return Promise.resolve()
  building ??= (async () => {
    const stampFile = path.join(BUILD_DIR, 'stamp')
    const stamp = sourceStamp()
    if (existsSync(path.join(REPO_ROOT, DIST_CLI)) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
      log('product build in bench/.build/dist is up to date')
      return
    }
    log('compiling the product (tsc -p tsconfig.build.json --outDir bench/.build/dist)')
    rmSync(path.join(BUILD_DIR, 'dist'), { recursive: true, force: true })
    mkdirSync(BUILD_DIR, { recursive: true })
    writeFileSync(path.join(BUILD_DIR, '.gitignore'), '*\n')
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    try {
      await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join('bench', '.build', 'dist')], {
        cwd: REPO_ROOT,
        maxBuffer: 16 * 1024 * 1024,
      })
    } catch (err) {
      // tsc still emits on type errors (someone may be mid-edit); run what it emitted, but say so.
      const out = (err as { stdout?: string }).stdout ?? String(err)
      if (!existsSync(path.join(REPO_ROOT, DIST_CLI))) throw new Error(`tsc emitted nothing:\n${out.slice(0, 2000)}`)
      log(`WARNING: tsc reported errors; benchmarking what it emitted anyway:\n${out.slice(0, 1500)}`)
    }
    writeFileSync(stampFile, stamp)
  })()
  return building
}

export interface Credentials {
  accountId: number
  accountToken: string
  apiKey: string
}

/** `fleet-faults accounts create --json` against `databaseUrl` (also migrates a fresh database). */
export async function createAccount(databaseUrl: string): Promise<Credentials> {
  await ensureBuilt()
  const { stdout } = await run(
    process.execPath,
    [...productCli(), 'accounts', 'create', '--name', 'Bench', '--email', 'bench@example.com', '--json'],
    { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' } },
  )
  const line = stdout.trim().split('\n').at(-1) ?? ''
  const created = JSON.parse(line) as { account: { id: number; account_token: string }; api_key: string }
  return { accountId: created.account.id, accountToken: created.account.account_token, apiKey: created.api_key }
}

export function authHeaders(c: Credentials): Record<string, string> {
  return { authorization: `Token ${c.apiKey}`, 'account-token': c.accountToken }
}

/** One API call during setup; throws unless the status is `expect`. */
export async function api<T = Record<string, unknown>>(
  port: number,
  method: string,
  pathAndQuery: string,
  headers: Record<string, string>,
  body?: unknown,
  expect = method === 'POST' ? 201 : 200,
): Promise<T> {
  const res = await fetch(`http://${HOST}:${port}${pathAndQuery}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status !== expect) throw new Error(`${method} ${pathAndQuery} answered ${res.status} (expected ${expect}): ${text.slice(0, 500)}`)
  return (text === '' ? {} : JSON.parse(text)) as T
}

/** Runs `task(i)` for i in 0..count-1 with at most `concurrency` in flight; resolves with the results in order. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      results[i] = await task(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return results
}
