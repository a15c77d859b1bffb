// Batches of the row stream, pulled lazily, and their Idempotency-Keys: same file, same keys; any change, new keys.
import assert from 'node:assert/strict'
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { type Batch, batches, fileIdentity, jobKey } from '../../src/import/batcher.js'
import { readCsv } from '../../src/import/csv-source.js'
import type { SourceRow } from '../../src/import/records.js'

function rows(count: number, invalidEvery = 0): SourceRow[] {
  return Array.from({ length: count }, (_, i) =>
    invalidEvery && (i + 1) % invalidEvery === 0
      ? { line: i + 2, record: 'bad', errors: { base: ['is not valid JSON'] } }
      : { line: i + 2, record: { vehicle_id: 1, code: `C${i}` } },
  )
}

async function collect(source: AsyncIterable<Batch>): Promise<Batch[]> {
  const all: Batch[] = []
  for await (const batch of source) all.push(batch)
  return all
}

async function* from<T>(items: T[], pulled?: { count: number }): AsyncGenerator<T> {
  for (const item of items) {
    if (pulled) pulled.count++
    yield item
  }
}

describe('batcher', () => {
  it('cuts valid rows into batches of the size asked, numbered from 0, the last one partial', async () => {
    const all = await collect(batches(from(rows(2500)), 1000))
    assert.deepEqual(
      all.map((batch) => [batch.number, batch.rows.length, batch.rows[0]?.line]),
      [
        [0, 1000, 2],
        [1, 1000, 1002],
        [2, 500, 2002],
      ],
    )
  })

  it('carries rows rejected while reading with the batch being filled, without counting them toward its size', async () => {
    const all = await collect(batches(from(rows(10, 4)), 3))
    assert.deepEqual(
      all.map((batch) => [batch.rows.map((row) => row.line), batch.invalid.map((row) => row.line)]),
      [
        [[2, 3, 4], []],
        [[6, 7, 8], [5]],
        [[10, 11], [9]],
      ],
    )
    const onlyInvalid = await collect(batches(from(rows(4, 4)), 3))
    assert.deepEqual(
      onlyInvalid.map((batch) => [batch.rows.length, batch.invalid.length]),
      [
        [3, 0],
        [0, 1],
      ],
    )
  })

  it('pulls rows only as batches are asked for, so memory holds one batch whatever the file size', async () => {
    const pulled = { count: 0 }
    const iterator = batches(from(rows(10_000), pulled), 100)
    await iterator.next()
    assert.equal(pulled.count, 100)
    await iterator.next()
    assert.equal(pulled.count, 200)
    await iterator.return(undefined)
  })
})

describe('job keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-faults-import-'))

  async function keysOf(path: string, size = 2): Promise<string[]> {
    const file = await fileIdentity(path)
    const stream = (async function* () {
      yield await readFile(path, 'utf8')
    })()
    const keys: string[] = []
    for await (const batch of batches(readCsv(stream, 'fault'), size)) keys.push(jobKey(file, 'fault', batch))
    return keys
  }

  it('are the same for the same file read twice, distinct per batch, and valid Idempotency-Keys', async () => {
    const path = join(dir, 'same.csv')
    writeFileSync(path, 'vehicle_id,code\n1,A\n1,B\n1,C\n1,D\n1,E\n')
    const first = await keysOf(path)
    const second = await keysOf(path)
    assert.equal(first.length, 3)
    assert.deepEqual(second, first)
    assert.equal(new Set(first).size, 3)
    for (const key of first) assert.match(key, /^[\x21-\x7e]{1,255}$/)
  })

  it('change when the content, the modification time, the path or the batching changes', async () => {
    const path = join(dir, 'changing.csv')
    writeFileSync(path, 'vehicle_id,code\n1,A\n1,B\n')
    const then = new Date('2026-01-01T00:00:00Z')
    utimesSync(path, then, then)
    const [original] = await keysOf(path)

    writeFileSync(path, 'vehicle_id,code\n1,A\n1,X\n')
    utimesSync(path, then, then)
    const [edited] = await keysOf(path)
    assert.notEqual(edited, original, 'same size and mtime, other content')

    writeFileSync(path, 'vehicle_id,code\n1,A\n1,B\n')
    utimesSync(path, then, then)
    assert.equal((await keysOf(path))[0], original, 'the original back: the original key')
    utimesSync(path, new Date(), new Date())
    assert.notEqual((await keysOf(path))[0], original, 'touched')

    const copy = join(dir, 'copy.csv')
    writeFileSync(copy, 'vehicle_id,code\n1,A\n1,B\n')
    utimesSync(copy, then, then)
    assert.notEqual((await keysOf(copy))[0], original, 'another path')

    assert.notEqual((await keysOf(path, 1))[0], (await keysOf(path, 2))[0], 'another batch size')
  })
})
