// Shared by the importer tests: a stand-in bulk API per test, captured output, options and a CSV with known bad rows.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import type { ImportOptions } from '../../src/import/importer.js'
import { type FakeBulkServer, type FakeOptions, startFakeBulkServer } from './fake-bulk-server.js'

export const dir = mkdtempSync(join(tmpdir(), 'fleet-faults-importer-'))

export class Capture {
  text = ''
  constructor(
    readonly isTTY = false,
    readonly columns = 200,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk
    return true
  }
}

export function validate(record: Record<string, unknown>) {
  const errors: Record<string, string[]> = {}
  if (record.vehicle_id === undefined) errors.vehicle_id = ["can't be blank"]
  if (record.code === 'NOPE') errors.code = ['must correspond with an existing fault rule']
  if (typeof record.count === 'number' && record.count < 1) errors.count = ['must be greater than or equal to 1']
  return Object.keys(errors).length > 0 ? errors : undefined
}

export async function fake(options: FakeOptions = {}): Promise<FakeBulkServer> {
  const server = await startFakeBulkServer({ validate, ...options })
  after(() => server.close())
  return server
}

export function options(server: FakeBulkServer, file: string, extra: Partial<ImportOptions> = {}): ImportOptions {
  return {
    file,
    resource: 'fault',
    url: server.url,
    apiKey: 'ffk_key',
    accountToken: 'token',
    batchSize: 100,
    concurrency: 2,
    rejectedPath: `${file}.rejected.ndjson`,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    ...extra,
  }
}

/** 250 data rows (lines 2..252, one of them spanning two lines) with bad ones at known lines. */
export function writeCsv(name: string): { path: string; bad: Map<number, string> } {
  const lines = ['vehicle_id,code,count,description']
  const bad = new Map<number, string>()
  const special: Record<number, [string, string | undefined]> = {
    10: ['1,NOPE,1,', 'code'],
    20: ['1,P0300,0,', 'count'],
    30: [',P0300,1,', 'vehicle_id'],
    40: ['1,"P0300"x,1,', 'base'],
    50: ['1,P0300,2,"two\nlines"', undefined],
    60: ['1,NOPE,1,after', 'code'],
  }
  let line = 2
  for (let i = 1; i <= 250; i++) {
    const [text, field] = special[i] ?? [`1,P0300,1,row ${i}`, undefined]
    if (field) bad.set(line, field)
    lines.push(text)
    line += text.split('\n').length
  }
  const path = join(dir, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return { path, bad }
}

export function rejectedOf(
  path: string,
): { line: number; index: number | null; job: number | null; record: unknown; errors: Record<string, string[]> }[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .sort((a, b) => a.line - b.line)
}
