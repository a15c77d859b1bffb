// The importer against a stand-in bulk API: batches, a window of jobs in flight, the rejected file
// with line numbers, replays on a re-run, and its output as plain lines or as a bar on a terminal.
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runImport } from '../../src/import/importer.js'
import { Capture, dir, fake, options, rejectedOf, writeCsv } from './harness.js'

describe('importer', () => {
  it('imports a CSV in batches with two jobs in flight, files the rejected rows by line, and a re-run replays every job', async () => {
    const server = await fake({ pollsBeforeDone: 2 })
    const { path, bad } = writeCsv('faults.csv')
    const out = new Capture()
    const err = new Capture()
    const summary = await runImport(options(server, path), { stdout: out, stderr: err })
    assert.deepEqual(
      { ...summary, elapsedMs: 0 },
      {
        read: 250,
        created: 245,
        rejected: 5,
        jobs: 3,
        replayed: 0,
        failedJobs: 0,
        elapsedMs: 0,
        rejectedPath: `${path}.rejected.ndjson`,
      },
    )
    assert.equal(server.created.length, 245)
    assert.equal(server.maxInFlight, 2)
    assert.deepEqual(
      server.jobs.map((job) => job.records.length),
      [100, 100, 49],
    )
    assert.deepEqual(
      server.created.find((record) => record.count === 2),
      { vehicle_id: 1, code: 'P0300', count: 2, description: 'two\nlines' },
    )

    const rejected = rejectedOf(`${path}.rejected.ndjson`)
    assert.deepEqual(
      rejected.map((entry) => [entry.line, Object.keys(entry.errors)[0]]),
      [...bad.entries()].sort(([a], [b]) => a - b),
    )
    const [code, , blank, malformed, later] = rejected
    assert.deepEqual(code, {
      line: 11,
      index: 9,
      job: 1,
      record: { vehicle_id: 1, code: 'NOPE', count: 1 },
      errors: { code: ['must correspond with an existing fault rule'] },
    })
    assert.equal(blank?.index, 29)
    assert.deepEqual([later?.line, later?.index], [62, 58], 'a line after the two-line row; an index without the malformed row')
    assert.deepEqual(malformed, {
      line: 41,
      index: null,
      job: null,
      record: '1,"P0300"x,1,',
      errors: { base: ['is not valid CSV: unexpected "x" after a closing quote'] },
    })

    const jobLines = out.text.split('\n').filter((line) => line.startsWith('job '))
    assert.equal(jobLines.length, 3, out.text)
    assert.match(out.text, /^job 1 \(batch 1, lines 2-103\) completed: 96 created, 4 rejected \| total/m)
    assert.match(
      out.text,
      /Import finished in [\d.]+s\.\n {2}records read: 250\n {2}created: {6}245\n {2}rejected: {5}5 \(written to .*faults\.csv\.rejected\.ndjson\)\n {2}jobs: {9}3\n/,
    )
    assert.equal(err.text, '')

    const rerun = new Capture()
    const again = await runImport(options(server, path), { stdout: rerun, stderr: new Capture() })
    assert.equal(server.created.length, 245, 'nothing created twice')
    assert.equal(server.jobs.length, 3, 'no new job')
    assert.deepEqual([again.created, again.rejected, again.jobs, again.replayed], [245, 5, 3, 3])
    assert.deepEqual(
      server.posts.slice(3).map((post) => post.status),
      [200, 200, 200],
    )
    assert.deepEqual(
      server.posts.slice(3).map((post) => post.key),
      server.posts.slice(0, 3).map((post) => post.key),
    )
    assert.match(rerun.text, /jobs: {9}3 \(3 replayed from an earlier run\)/)
    assert.deepEqual(rejectedOf(`${path}.rejected.ndjson`), rejected, 'the same rejected file again')
  })

  it('rejects a malformed NDJSON line with its parse error and sends the rest', async () => {
    const server = await fake()
    const path = join(dir, 'faults.ndjson')
    writeFileSync(path, '{"vehicle_id":1,"code":"A"}\n\n{"vehicle_id":1,"code":\n{"vehicle_id":1,"code":"B","count":3}\n')
    const summary = await runImport(options(server, path, { rejectedPath: join(dir, 'nd.rejected') }), {
      stdout: new Capture(),
      stderr: new Capture(),
    })
    assert.deepEqual([summary.read, summary.created, summary.rejected, summary.jobs], [3, 2, 1, 1])
    const [entry] = rejectedOf(join(dir, 'nd.rejected'))
    assert.equal(entry?.line, 3)
    assert.equal(entry?.record, '{"vehicle_id":1,"code":')
    assert.match(entry?.errors.base?.[0] ?? '', /^is not valid JSON/)
  })

  it('leaves no rejected file when every row was created', async () => {
    const server = await fake()
    const path = join(dir, 'clean.csv')
    writeFileSync(path, 'vehicle_id,code\n1,A\n')
    writeFileSync(`${path}.rejected.ndjson`, 'stale\n')
    const out = new Capture()
    const summary = await runImport(options(server, path), { stdout: out, stderr: new Capture() })
    assert.equal(summary.rejectedPath, null)
    assert.equal(existsSync(`${path}.rejected.ndjson`), false)
    assert.match(out.text, /rejected: {5}0\n/)
  })

  it('draws one bar in place on a terminal instead of a line per job', async () => {
    const server = await fake({ pollsBeforeDone: 3 })
    const { path } = writeCsv('tty.csv')
    const tty = new Capture(true, 120)
    await runImport(options(server, path, { batchSize: 50 }), { stdout: tty, stderr: new Capture(true) })
    assert.doesNotMatch(tty.text, /^job /m)
    const frames = tty.text.split('\r\x1b[2K')
    assert.ok(frames.length > 3, 'redrawn in place, clearing the line each time')
    const bar = /^\[[#-]{24}\] +\d+% {2}[\d,]+ read {2}[\d,]+ created {2}[\d,]+ rejected {2}\d jobs? in flight {2}[\d,]+ rec\/s/
    assert.ok(
      frames.some((frame) => bar.test(frame)),
      tty.text,
    )
    assert.match(frames.at(-1) ?? '', /^Import finished/)
    for (const frame of frames) assert.ok((frame.split('\n')[0] ?? '').length <= 119, 'a frame fits the terminal')
  })
})
