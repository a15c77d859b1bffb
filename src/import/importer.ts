// The import, start to end: read the file as a stream, cut it into batches, run each batch as a bulk
// job (a few at once), write the rejected rows, report progress and sum up. Memory holds the batch
// being filled plus one per job in flight, whatever the size of the file.
import { createReadStream, type ReadStream } from 'node:fs'
import { extname } from 'node:path'
import { type Batch, batches, type FileIdentity, fileIdentity, jobKey } from './batcher.js'
import { awaitJob, submitJob } from './bulk-jobs.js'
import { readCsv } from './csv-source.js'
import { ApiClient, type RetryPolicy } from './http-client.js'
import { readNdjson } from './ndjson-source.js'
import { type Counts, formatSummary, type Output, Progress, type Summary } from './progress.js'
import { ImportError, type Resource, type SourceRow } from './records.js'
import { RejectedFile } from './rejected-file.js'

export interface ImportOptions {
  file: string
  resource: Resource
  url: string
  apiKey: string
  accountToken: string
  batchSize: number
  concurrency: number
  rejectedPath: string
  retry?: Partial<RetryPolicy>
}

export interface ImportIo {
  stdout: Output
  stderr: Output
}

export type Format = 'csv' | 'ndjson'

export function formatOf(file: string): Format {
  const extension = extname(file).toLowerCase()
  if (extension === '.csv') return 'csv'
  if (extension === '.ndjson' || extension === '.jsonl') return 'ndjson'
  throw new ImportError(`cannot tell the format of ${file}: name it .csv, .ndjson or .jsonl`)
}

function rowsOf(stream: ReadStream, format: Format, resource: Resource): AsyncIterable<SourceRow> {
  return format === 'csv' ? readCsv(stream as AsyncIterable<string>, resource) : readNdjson(stream)
}

interface Run {
  options: ImportOptions
  file: FileIdentity
  client: ApiClient
  counts: Counts
  progress: Progress
  rejected: RejectedFile
  signal: AbortSignal
  bytesRead(): number
}

/** Sends one batch as a bulk job, waits for it, and files its rejected rows. */
async function runBatch(run: Run, batch: Batch): Promise<void> {
  const { counts } = run
  const records = batch.rows.map((row) => row.record)
  const submitted = await submitJob(run.client, run.options.resource, records, jobKey(run.file, run.options.resource, batch))
  counts.jobs++
  if (submitted.replayed) counts.replayed++
  const job = await awaitJob(run.client, submitted, run.signal)
  const answered = new Set<number>()
  let created = 0
  let rejected = 0
  for (const result of job.results) {
    const row = batch.rows[result.index]
    if (!row || answered.has(result.index)) continue
    answered.add(result.index)
    if (result.status >= 200 && result.status < 300) created++
    else {
      rejected++
      const errors = result.errors ?? { base: [`was answered ${result.status}`] }
      await run.rejected.write({ line: row.line, index: result.index, job: job.id, record: row.record, errors })
    }
  }
  if (job.status === 'failed') {
    counts.failedJobs++
    for (const [index, row] of batch.rows.entries()) {
      if (answered.has(index)) continue
      rejected++
      const errors = { base: [`was not processed: bulk job ${job.id} failed`] }
      await run.rejected.write({ line: row.line, index, job: job.id, record: row.record, errors })
    }
  } else if (job.results.length === 0 && typeof job.succeeded_count === 'number') created = job.succeeded_count
  counts.created += created
  counts.rejected += rejected
  run.progress.jobFinished({
    job: job.id,
    batch: batch.number,
    firstLine: batch.rows[0]?.line ?? 0,
    lastLine: batch.rows.at(-1)?.line ?? 0,
    created,
    rejected,
    replayed: submitted.replayed,
    status: job.status,
  })
}

/**
 * Keeps up to `concurrency` batches in flight. A job the server refuses stops the others at once;
 * a file that cannot be read further stops the reading, and the jobs already sent are seen through.
 */
async function runAll(run: Run, source: AsyncIterable<Batch>, abort: AbortController): Promise<void> {
  const { counts } = run
  const inFlight = new Set<Promise<void>>()
  let fatal: unknown
  try {
    for await (const batch of source) {
      counts.bytesRead = run.bytesRead()
      counts.read += batch.rows.length + batch.invalid.length
      for (const row of batch.invalid) await run.rejected.write({ ...row, index: null, job: null })
      counts.rejected += batch.invalid.length
      if (batch.rows.length === 0) continue
      const task: Promise<void> = runBatch(run, batch)
        .catch((error) => {
          fatal ??= error
          abort.abort(error)
        })
        .finally(() => {
          inFlight.delete(task)
          counts.inFlight = inFlight.size
        })
      inFlight.add(task)
      counts.inFlight = inFlight.size
      while (inFlight.size >= run.options.concurrency && fatal === undefined) await Promise.race(inFlight)
      if (fatal !== undefined) break
    }
    counts.bytesRead = run.bytesRead()
  } catch (error) {
    fatal ??= error
  }
  await Promise.all(inFlight)
  if (fatal !== undefined) throw fatal
}

/** Runs an import and prints its summary (also when it stops on a fatal error, which is then rethrown). */
export async function runImport(options: ImportOptions, io: ImportIo): Promise<Summary> {
  const format = formatOf(options.file)
  const file = await fileIdentity(options.file).catch((error: NodeJS.ErrnoException) => {
    throw new ImportError(`cannot read ${options.file}: ${error.code ?? error.message}`)
  })
  const startedAt = Date.now()
  const counts: Counts = {
    read: 0,
    created: 0,
    rejected: 0,
    jobs: 0,
    replayed: 0,
    failedJobs: 0,
    inFlight: 0,
    bytesRead: 0,
    totalBytes: file.size,
    startedAt,
  }
  const abort = new AbortController()
  const progress = new Progress(counts, io.stdout, io.stderr)
  const client = new ApiClient({
    baseUrl: options.url,
    apiKey: options.apiKey,
    accountToken: options.accountToken,
    signal: abort.signal,
    onRetry: (reason, delayMs) => progress.notice(`${reason}; retrying in ${(delayMs / 1000).toFixed(1)}s`),
    ...(options.retry ? { retry: options.retry } : {}),
  })
  const rejected = await RejectedFile.open(options.rejectedPath)
  const stream = createReadStream(file.path, { encoding: 'utf8' })
  const run: Run = { options, file, client, counts, progress, rejected, signal: abort.signal, bytesRead: () => stream.bytesRead }
  progress.start()
  let failure: unknown
  try {
    await runAll(run, batches(rowsOf(stream, format, options.resource), options.batchSize), abort)
  } catch (error) {
    failure = error
  } finally {
    progress.stop()
    stream.destroy()
  }
  const kept = await rejected.close()
  const { read, created, jobs, replayed, failedJobs } = counts
  const summary: Summary = {
    read,
    created,
    rejected: counts.rejected,
    jobs,
    replayed,
    failedJobs,
    elapsedMs: Date.now() - startedAt,
    rejectedPath: kept ? rejected.path : null,
  }
  io.stdout.write(formatSummary(summary, failure === undefined ? undefined : (failure as Error).message))
  if (failure !== undefined) throw failure
  return summary
}
