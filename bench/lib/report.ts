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

/** The scenario's PASS criteria, e.g. `>= 0.70, p99 < 4x, RSS < 200`. */
function criteria(r: ScenarioResult): string {
  const parts: string[] = []
  if (r.target !== null) parts.push(`>= ${r.target.toFixed(2)}`)
  if (r.p50Factor !== null) parts.push(`p50 <= ${r.p50Factor}x`)
  if (r.p99Factor !== null) parts.push(`p99 < ${r.p99Factor}x`)
  if (r.rssLimitMb !== null) parts.push(`RSS < ${r.rssLimitMb}`)
  return parts.length === 0 ? '-' : parts.join(', ')
}

export function renderTable(report: BenchReport): string {
  const { machine, settings } = report
  const header = [
    `fleet-faults bench  ${report.date}`,
    `machine: ${machine.cores} cores (${machine.cpuModel}), node ${machine.node}, ${machine.platform}`,
    `load: ${settings.connections} connections (unless 'conn' says otherwise), ${settings.durationSec}s per run, ${settings.runs} run(s) per scenario ` +
      `(median), ${settings.warmupSec}s warm-up discarded`,
    '',
  ]
  const cols = ['scenario', 'conn', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'ratio', 'p50 x', 'p99 x', 'target', 'verdict', 'statuses']
  const right = new Set([1, 2, 3, 4, 5, 6, 7, 8])
  const rows = report.results.map((r) => [
    `${r.id} (${r.title})`,
    String(r.connections),
    fmt(r.rps, 0),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    fmt(r.rssMaxMb, 1),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)} vs ${r.baseline}`,
    r.p50Ratio === null ? '-' : `${r.p50Ratio.toFixed(2)}`,
    r.p99Ratio === null ? '-' : `${r.p99Ratio.toFixed(2)}`,
    criteria(r),
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
