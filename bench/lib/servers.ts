// Starts benchmark target servers as child processes, waits for readiness, samples RSS, and always kills them.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import type { ServerSpec } from './types.js'

export const HOST = '127.0.0.1'
const READY_TIMEOUT_MS = 30_000
const READY_POLL_MS = 100
const STOP_GRACE_MS = 3_000
const LOG_TAIL_CHARS = 4_000

export interface RunningServer {
  spec: ServerSpec
  port: number
  pid: number
  child: ChildProcess
  /** Last few KB of the child's stdout+stderr, for diagnostics. */
  logTail: () => string
  /** Set once the child has exited (unexpectedly or not). */
  exited: () => boolean
}

const live = new Set<ChildProcess>()

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, HOST, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))))
    })
  })
}

/** One GET; resolves with the status code (any status means "the server answers"). */
export function httpStatus(port: number, path: string, timeoutMs = 1_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export async function startServer(spec: ServerSpec, cwd: string, extraEnv: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort()
  const child = spawn(process.execPath, [...spec.args], {
    cwd,
    env: { ...process.env, ...spec.env, ...extraEnv, PORT: String(port), HOST },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  let tail = ''
  let exitInfo: string | null = null
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  child.once('exit', (code, signal) => {
    exitInfo = `exited (code ${code}, signal ${signal})`
    live.delete(child)
  })
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  await spawned
  const server: RunningServer = {
    spec,
    port,
    pid: child.pid ?? -1,
    child,
    logTail: () => tail,
    exited: () => exitInfo !== null,
  }
  const readyPath = spec.readyPath ?? '/'
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (let attempt = 0; attempt < READY_TIMEOUT_MS / READY_POLL_MS + 1 && Date.now() < deadline; attempt++) {
    if (exitInfo !== null) break
    try {
      await httpStatus(port, readyPath)
      return server
    } catch {
      await sleep(READY_POLL_MS)
    }
  }
  await stopServer(server)
  throw new Error(
    `server '${spec.id}' did not answer on ${HOST}:${port}${readyPath} ` +
      `(${exitInfo ?? `not ready after ${READY_TIMEOUT_MS} ms`})\n--- output tail ---\n${tail}`,
  )
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the child is gone. */
export async function stopServer(server: RunningServer): Promise<void> {
  const { child } = server
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), server.spec.stopGraceMs ?? STOP_GRACE_MS)
  await gone
  clearTimeout(timer)
}

/** Synchronous last resort (process 'exit' / signal handlers): SIGKILL every child still alive. */
export function killAllNow(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  live.clear()
}

/** Resident set size of a pid in MB from /proc/<pid>/status (null where /proc is unavailable). */
export function rssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    return m?.[1] ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

/** CPU seconds (user + system) a pid has used so far, from /proc/<pid>/stat (null where /proc is unavailable). */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (in parentheses, which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return null
  }
}
/** USER_HZ: 100 on every Linux the bench runs on. */
const CLOCK_TICKS = 100

/** Samples RSS every `intervalMs` until stopped; stop() returns the max seen (including a final sample). */
export function sampleRss(pid: number, intervalMs = 200): { stop: () => number | null } {
  let max: number | null = null
  const take = () => {
    const v = rssMb(pid)
    if (v !== null && (max === null || v > max)) max = v
  }
  take()
  const timer = setInterval(take, intervalMs)
  return {
    stop: () => {
      clearInterval(timer)
      take()
      return max
    },
  }
}
