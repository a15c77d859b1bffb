// Bench configuration: env knobs (BENCH_*) and command-line flags (--only, --list, --help).
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

export interface BenchConfig {
  connections: number
  durationSec: number
  runs: number
  warmupSec: number
  strict: boolean
  only: string[]
  list: boolean
  help: boolean
}

/** An integer env knob within [min, max]; unset or empty gives `fallback`. */
export function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`)
  }
  return n
}

export function loadConfig(argv: string[] = process.argv.slice(2)): BenchConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', multiple: true },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  })
  const only = (values.only ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '')
  return {
    connections: intEnv('BENCH_CONNECTIONS', 50, 1, 10_000),
    durationSec: intEnv('BENCH_DURATION', 5, 1, 600),
    runs: intEnv('BENCH_RUNS', 3, 1, 50),
    warmupSec: intEnv('BENCH_WARMUP', 1, 0, 60),
    strict: process.env.BENCH_STRICT === '1',
    only,
    list: values.list ?? false,
    help: values.help ?? false,
  }
}

export function machineInfo(): { cores: number; cpuModel: string; node: string; platform: string } {
  const cpus = os.cpus()
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  }
}

export const HELP = `Usage: npm run bench [-- --only ID[,ID...]] [-- --list]

  --only a,b   run only scenarios whose id contains one of the given substrings
               (baseline scenarios they are compared against are added automatically)
  --list       print the scenario ids and exit

Env: BENCH_CONNECTIONS (50), BENCH_DURATION seconds per run (5), BENCH_RUNS (3),
     BENCH_WARMUP seconds per scenario, discarded (1), BENCH_STRICT=1 (exit 1 on MISS),
     BENCH_BULK_JOBS jobs per bulk-ingest run (50), BENCH_BULK_RECORDS records per job (1000)`

/** Repository root (children run with this cwd; their args are relative to it). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
