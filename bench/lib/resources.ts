// Throwaway resources of a bench run (temp SQLite files, PostgreSQL databases) and their cleanup, also on Ctrl-C.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`)

/** Thrown by a ServerSpec.prepare to SKIP (not ERROR) its scenarios, e.g. when PostgreSQL is not reachable. */
export class SkipServer extends Error {}

type Cleanup = { name: string; run: () => Promise<void> | void }
const cleanups: Cleanup[] = []
let stopping = false

/** Ctrl-C / SIGTERM: from now on the driver starts nothing new, and a resource made anyway is undone at once. */
export function requestStop(): void {
  stopping = true
}

export function stopRequested(): boolean {
  return stopping
}

/** Registers an undo step; runAllCleanups runs them newest first. Returns a function that runs it once now. */
export function onCleanup(name: string, run: () => Promise<void> | void): () => Promise<void> {
  const entry: Cleanup = { name, run }
  if (stopping) {
    void runOne(entry)
    return async () => {}
  }
  cleanups.push(entry)
  return async () => {
    const i = cleanups.indexOf(entry)
    if (i === -1) return
    cleanups.splice(i, 1)
    await runOne(entry)
  }
}

async function runOne({ name, run }: Cleanup): Promise<void> {
  try {
    await run()
  } catch (err) {
    log(`cleanup '${name}' failed: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Runs every registered cleanup (newest first), each bounded by `timeoutMs`. */
export async function runAllCleanups(timeoutMs = 10_000): Promise<void> {
  while (cleanups.length > 0) {
    const entry = cleanups.pop() as Cleanup
    await Promise.race([runOne(entry), new Promise<void>((r) => setTimeout(r, timeoutMs).unref())])
  }
}

let tempDir: string | null = null

/** A fresh SQLite file path (on disk, so WAL applies) in this run's temp directory, removed at the end. */
export function tempSqlitePath(name: string): string {
  if (tempDir === null) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `fleet-faults-bench-${process.pid}-`))
    tempDir = dir
    onCleanup(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }))
    // Last resort when the process dies without running cleanups (a file is not worth a leak).
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  }
  return path.join(tempDir, `${name}.db`)
}

/** Admin connection URL for creating/dropping bench databases; BENCH_PG_URL='' disables the PostgreSQL scenarios. */
export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export function pgUnavailable(): string | undefined {
  return PG_ADMIN_URL === '' ? 'BENCH_PG_URL is empty: PostgreSQL scenarios disabled' : undefined
}

function adminClient() {
  return postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 })
}

/** The URL of a database `url`'s server, with another database name. */
export function pgUrlFor(database: string): string {
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${database}`
  return url.toString()
}

/**
 * Creates a fresh database `bench_<pid>_<suffix>` (dropped by cleanup, with FORCE so the server's
 * leftover connections do not block it), with optional per-database settings, and returns its URL.
 * A server that does not answer is a SkipServer.
 */
export async function createPgDatabase(suffix: string, settings: Record<string, string> = {}): Promise<string> {
  const name = `bench_${process.pid}_${suffix}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase()
  const sql = adminClient()
  try {
    await sql`select 1`
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {})
    throw new SkipServer(
      `PostgreSQL not reachable at ${PG_ADMIN_URL} (${err instanceof Error ? err.message : String(err)}); set BENCH_PG_URL`,
    )
  }
  try {
    await sql.unsafe(`drop database if exists ${name} with (force)`)
    await sql.unsafe(`create database ${name}`)
    // Per-database defaults (ALTER DATABASE … SET): every connection the server opens later gets them.
    for (const [setting, value] of Object.entries(settings)) {
      await sql.unsafe(`alter database ${name} set ${setting} = ${value}`)
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
  onCleanup(`drop database ${name}`, async () => {
    const admin = adminClient()
    try {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
    } finally {
      await admin.end({ timeout: 5 })
    }
  })
  return pgUrlFor(name)
}
