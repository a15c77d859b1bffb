// Progress of an import: a bar redrawn in place on a terminal, one plain line per finished job otherwise.

/** The importer's running counts, read by the reporter (never written by it). */
export interface Counts {
  read: number
  created: number
  rejected: number
  jobs: number
  replayed: number
  failedJobs: number
  inFlight: number
  bytesRead: number
  totalBytes: number
  startedAt: number
}

export interface Output {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

export interface JobReport {
  job: number
  batch: number
  firstLine: number
  lastLine: number
  created: number
  rejected: number
  replayed: boolean
  status: string
}

const REDRAW_MS = 100
const BAR_WIDTH = 24

const number = (value: number): string => value.toLocaleString('en-US')

export function formatElapsed(ms: number): string {
  const seconds = ms / 1000
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  const minutes = Math.floor(seconds / 60)
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
}

function rate(counts: Counts, now: number): string {
  const seconds = Math.max(0.001, (now - counts.startedAt) / 1000)
  return `${number(Math.round((counts.created + counts.rejected) / seconds))} rec/s`
}

export class Progress {
  private timer: NodeJS.Timeout | undefined
  private note = ''
  private drawn = false

  constructor(
    private readonly counts: Counts,
    private readonly out: Output,
    private readonly err: Output,
  ) {}

  get interactive(): boolean {
    return this.out.isTTY === true
  }

  start(): void {
    if (!this.interactive) return
    this.timer = setInterval(() => this.draw(), REDRAW_MS)
    this.timer.unref()
  }

  /** A passing remark (a retry, a wait): on the bar while it lasts, else a line on stderr. */
  notice(message: string): void {
    if (this.interactive) this.note = message
    else this.err.write(`${message}\n`)
  }

  jobFinished(report: JobReport): void {
    this.note = ''
    if (this.interactive) return
    const { counts } = this
    const replayed = report.replayed ? ', replayed' : ''
    this.out.write(
      `job ${report.job} (batch ${report.batch + 1}, lines ${report.firstLine}-${report.lastLine}) ${report.status}${replayed}: ` +
        `${number(report.created)} created, ${number(report.rejected)} rejected | ` +
        `total ${number(counts.read)} read, ${number(counts.created)} created, ${number(counts.rejected)} rejected, ${rate(counts, Date.now())}\n`,
    )
  }

  /** Removes the bar, so what follows starts on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (this.drawn) this.out.write('\r\x1b[2K')
    this.drawn = false
  }

  private draw(): void {
    const { counts } = this
    const fraction = counts.totalBytes > 0 ? Math.min(1, counts.bytesRead / counts.totalBytes) : 0
    const filled = Math.round(fraction * BAR_WIDTH)
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`
    const parts = [
      bar,
      `${number(counts.read)} read`,
      `${number(counts.created)} created`,
      `${number(counts.rejected)} rejected`,
      `${counts.inFlight} job${counts.inFlight === 1 ? '' : 's'} in flight`,
      rate(counts, Date.now()),
    ]
    if (this.note) parts.push(this.note)
    const width = Math.max(20, (this.out.columns ?? 80) - 1)
    this.out.write(`\r\x1b[2K${parts.join('  ').slice(0, width)}`)
    this.drawn = true
  }
}

export interface Summary {
  read: number
  created: number
  rejected: number
  jobs: number
  replayed: number
  failedJobs: number
  elapsedMs: number
  rejectedPath: string | null
}

export function formatSummary(summary: Summary, stopped?: string): string {
  const lines = [
    stopped
      ? `Import stopped after ${formatElapsed(summary.elapsedMs)}: ${stopped}`
      : `Import finished in ${formatElapsed(summary.elapsedMs)}.`,
    `  records read: ${number(summary.read)}`,
    `  created:      ${number(summary.created)}`,
    `  rejected:     ${number(summary.rejected)}${summary.rejectedPath ? ` (written to ${summary.rejectedPath})` : ''}`,
    `  jobs:         ${number(summary.jobs)}${summary.replayed ? ` (${number(summary.replayed)} replayed from an earlier run)` : ''}` +
      `${summary.failedJobs ? `, ${number(summary.failedJobs)} failed` : ''}`,
    `  elapsed:      ${formatElapsed(summary.elapsedMs)}`,
  ]
  return `${lines.join('\n')}\n`
}
