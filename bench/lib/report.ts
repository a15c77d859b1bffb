// Renders bench results as a plain-text table and writes them as JSON (bench/results/latest.json).
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { BenchConfig } from './config.js'
import { machineInfo } from './config.js'
import { median } from './stats.js'
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

/** A plain-text table: the columns in `right` are right-aligned. */
function table(cols: readonly string[], rows: readonly string[][], right: ReadonlySet<number>): string[] {
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join(' | ')
      .trimEnd()
  return [line(cols), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)]
}

const ratioOf = (r: ScenarioResult) => (r.ratio === null ? '-' : `${r.ratio.toFixed(2)} vs ${r.baseline}`)

function loadTable(results: readonly ScenarioResult[]): string[] {
  const cols = ['scenario', 'conn', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'ratio', 'p50 x', 'p99 x', 'target', 'verdict', 'statuses']
  const rows = results.map((r) => [
    `${r.id} (${r.title})`,
    String(r.connections),
    fmt(r.rps, 0),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    fmt(r.rssMaxMb, 1),
    ratioOf(r),
    r.p50Ratio === null ? '-' : `${r.p50Ratio.toFixed(2)}`,
    r.p99Ratio === null ? '-' : `${r.p99Ratio.toFixed(2)}`,
    criteria(r),
    r.verdict,
    statusSummary(r),
  ])
  return table(cols, rows, new Set([1, 2, 3, 4, 5, 6, 7, 8]))
}

/** Self-measuring scenarios of one unit (e.g. bulk ingest in faults/s): items and seconds of the median run. */
function measuredTable(unit: string, results: readonly ScenarioResult[]): string[] {
  const cols = ['scenario', 'items/run', 'median s', unit, 'RSS MB', 'ratio', 'target', 'verdict', 'runs']
  const rows = results.map((r) => {
    const runs = r.runs.flatMap((run) => (run.measured ? [run.measured] : []))
    const seconds = median(runs.map((run) => run.seconds))
    return [
      `${r.id} (${r.title})`,
      runs[0] ? String(runs[0].items) : '-',
      fmt(seconds, 2),
      fmt(r.rps, 0),
      fmt(r.rssMaxMb, 1),
      ratioOf(r),
      criteria(r),
      r.verdict,
      r.runs.map((run) => run.rps.toFixed(0)).join(' ') || '-',
    ]
  })
  return [`${unit} (measured by the scenario itself, median of the runs):`, ...table(cols, rows, new Set([1, 2, 3, 4, 5]))]
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
  const loads = report.results.filter((r) => r.unit === 'req/s')
  const units = [...new Set(report.results.map((r) => r.unit))].filter((unit) => unit !== 'req/s')
  const tables = [
    ...(loads.length > 0 ? [loadTable(loads)] : []),
    ...units.map((unit) =>
      measuredTable(
        unit,
        report.results.filter((r) => r.unit === unit),
      ),
    ),
  ]
  const notes = report.results.filter((r) => r.note !== null).map((r) => `note: ${r.id}: ${r.note}`)
  return [...header, ...tables.flatMap((t, i) => (i === 0 ? t : ['', ...t])), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
}

export async function writeJson(report: BenchReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, 'latest.json')
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`)
  return file
}
