// Renders bench results as a plain-text table and writes them as JSON (bench/results/latest.json).
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { BenchConfig } from './config.js'
import { machineInfo } from './config.js'
import type { ScenarioResult } from './types.js'

export interface BenchReport {
  date: string
  machine: ReturnType<typeof machineInfo>
  settings: { connections: number; durationSec: number; runs: number; warmupSec: number }
  results: ScenarioResult[]
}

export function buildReport(config: BenchConfig, results: ScenarioResult[]): BenchReport {
  return {
    date: new Date().toISOString(),
    machine: machineInfo(),
    settings: {
      connections: config.connections,
      durationSec: config.durationSec,
      runs: config.runs,
      warmupSec: config.warmupSec,
    },
    results,
  }
}

const fmt = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits))

function statusSummary(r: ScenarioResult): string {
  if (r.runs.length === 0) return '-'
  const codes = Object.entries(r.statusCounts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${code}:${n}`)
    .join(' ')
  const errs = r.errors > 0 ? ` err:${r.errors}${r.timeouts > 0 ? `(timeout:${r.timeouts})` : ''}` : ''
  return `${r.expectStatus} exp, ${r.unexpected} unexp [${codes}${errs}]`
}

export function renderTable(report: BenchReport): string {
  const { machine, settings } = report
  const header = [
    `fleet-faults bench  ${report.date}`,
    `machine: ${machine.cores} cores (${machine.cpuModel}), node ${machine.node}, ${machine.platform}`,
    `load: ${settings.connections} connections, ${settings.durationSec}s per run, ${settings.runs} run(s) per scenario ` +
      `(median), ${settings.warmupSec}s warm-up discarded`,
    '',
  ]
  const cols = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'ratio', 'target', 'verdict', 'statuses']
  const right = new Set([1, 2, 3, 4, 5, 6])
  const rows = report.results.map((r) => [
    `${r.id} (${r.title})`,
    fmt(r.rps, 0),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    fmt(r.rssMaxMb, 1),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)} vs ${r.baseline}`,
    r.target === null ? '-' : `>= ${r.target.toFixed(2)}`,
    r.verdict,
    statusSummary(r),
  ])
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join(' | ')
      .trimEnd()
  const sep = widths.map((w) => '-'.repeat(w)).join('-+-')
  const notes = report.results.filter((r) => r.note !== null).map((r) => `note: ${r.id}: ${r.note}`)
  return [...header, line(cols), sep, ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
}

export async function writeJson(report: BenchReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, 'latest.json')
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`)
  return file
}
