// The `fleet-faults import` command line: its options, their checks, and its help text.
import { resolve } from 'node:path'
import type { ImportOptions } from './importer.js'
import { formatOf } from './importer.js'
import { ImportError, type Resource, resources } from './records.js'

/** Records per job: the server's BULK_MAX_RECORDS default (CONTRACT §12); a job over the server's limit is refused. */
export const DEFAULT_BATCH_SIZE = 1000
/** Jobs in flight: two keeps the server busy while the next batch is read, without hogging the account's rate limit. */
export const DEFAULT_CONCURRENCY = 2
const MAX_CONCURRENCY = 16

export const importUsage =
  'fleet-faults import <file.csv|file.ndjson> --url <base> --api-key <key> --account-token <token> ' +
  '[--resource fault|vehicle] [--batch-size <n>] [--concurrency <n>] [--rejected <path>]'

export const importSummary = 'Import faults (or vehicles) from a CSV or NDJSON file through bulk jobs; safe to re-run.'

export const importHelp = `Options:
  --url <base>            the server, e.g. https://faults.example.com (required)
  --api-key <key>         an API key (Authorization: Token <key>) of an editor or admin (required)
  --account-token <token> the account to import into (required)
  --resource <name>       fault (default) or vehicle
  --batch-size <n>        records per bulk job (default ${DEFAULT_BATCH_SIZE}, at most the server's BULK_MAX_RECORDS)
  --concurrency <n>       bulk jobs in flight at once (default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY})
  --rejected <path>       where rejected rows go (default <file>.rejected.ndjson)

The file is read as a stream, so any size works. A CSV file's header row names the fields
(faults: vehicle_id, code, count, description, external_id, last_occurred_at, name, status,
source; vehicles: name, vin, license_plate, external_id, make, model, year); an empty cell leaves
its field out. An NDJSON file holds one JSON object a line.

Each job carries an Idempotency-Key derived from the file (path, size, modification time) and
the batch, so running the same command again after a crash or Ctrl-C replays the jobs the
server already has instead of creating their records twice (within the server's 24 hours, with
the same --batch-size and an unchanged file). 429 and 503 answers are retried after Retry-After.

Rows the server rejects, and rows that cannot be read, are written one JSON object a line as
{"line", "index", "job", "record", "errors"}, "line" being the row's line in the file.
Exit status: 0 when every row was processed (some may be rejected), 1 on a fatal error.`

type Values = Record<string, string | boolean | undefined>

export const importOptionSpec = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  'account-token': { type: 'string' },
  resource: { type: 'string' },
  'batch-size': { type: 'string' },
  concurrency: { type: 'string' },
  rejected: { type: 'string' },
} as const

function required(values: Values, name: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value.trim() === '') throw new ImportError(`--${name} is required\nusage: ${importUsage}`)
  return value.trim()
}

function integer(values: Values, name: string, fallback: number, max: number): number {
  const value = values[name]
  if (value === undefined) return fallback
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(number) || number < 1 || number > max) throw new ImportError(`--${name} must be an integer from 1 to ${max}`)
  return number
}

/** The options of one import from the parsed command line; throws ImportError naming what is wrong. */
export function importOptions(values: Values, positionals: string[]): ImportOptions {
  const [file, ...extra] = positionals
  if (file === undefined || extra.length > 0) throw new ImportError(`give exactly one file\nusage: ${importUsage}`)
  formatOf(file)
  const url = required(values, 'url')
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) throw new ImportError(`--url must be an http(s) URL, e.g. http://127.0.0.1:3000`)
  const resource = (values.resource ?? 'fault') as Resource
  if (!resources.includes(resource)) throw new ImportError(`--resource must be one of ${resources.join(', ')}`)
  const rejectedPath = resolve(typeof values.rejected === 'string' ? values.rejected : `${file}.rejected.ndjson`)
  if (rejectedPath === resolve(file)) throw new ImportError('--rejected must not be the file being imported')
  return {
    file,
    resource,
    url,
    apiKey: required(values, 'api-key'),
    accountToken: required(values, 'account-token'),
    batchSize: integer(values, 'batch-size', DEFAULT_BATCH_SIZE, 100_000),
    concurrency: integer(values, 'concurrency', DEFAULT_CONCURRENCY, MAX_CONCURRENCY),
    rejectedPath,
  }
}
