// The importer when things go wrong: a rate limit to wait out, a job envelope refused, an unreadable
// file, a job the server gives up on.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runImport } from '../../src/import/importer.js'
import { ImportError } from '../../src/import/records.js'
import { Capture, dir, fake, options, rejectedOf } from './harness.js'

describe('importer, when things go wrong', () => {
  it('waits out a 429 with Retry-After and says so on stderr', async () => {
    const server = await fake({
      intercept: (_request, response, post) => {
        if (post > 1) return false
        response.writeHead(429, { 'retry-after': '1', 'content-type': 'application/problem+json' })
        response.end('{"status":429,"title":"Too Many Requests"}')
        return true
      },
    })
    const path = join(dir, 'limited.csv')
    writeFileSync(path, 'vehicle_id,code\n1,A\n')
    const err = new Capture()
    const summary = await runImport(options(server, path), { stdout: new Capture(), stderr: err })
    assert.equal(summary.created, 1)
    assert.match(err.text, /POST \/api\/v1\/bulk_api_jobs answered 429; retrying in 1\.0s/)
  })

  it('stops on a refused job envelope with the problem detail, still summing up', async () => {
    const server = await fake({
      intercept: (_request, response) => {
        response.writeHead(422, { 'content-type': 'application/problem+json' })
        response.end(
          JSON.stringify({
            status: 422,
            title: 'Validation failed',
            detail: '1 field is invalid',
            errors: { records: ['has more than 10 records'] },
          }),
        )
        return true
      },
    })
    const path = join(dir, 'refused.csv')
    writeFileSync(path, 'vehicle_id,code\n1,A\n1,B\n1,C\n')
    const out = new Capture()
    await assert.rejects(
      runImport(options(server, path, { batchSize: 1 }), { stdout: out, stderr: new Capture() }),
      (error: unknown) =>
        error instanceof ImportError &&
        error.message ===
          `POST /api/v1/bulk_api_jobs answered 422 Validation failed: 1 field is invalid {"records":["has more than 10 records"]} (try a smaller --batch-size)`,
    )
    assert.match(out.text, /^Import stopped after [\d.]+s: POST/m)
    assert.ok(server.posts.length <= 2, 'no job sent after the first refusal came back')
  })

  it('stops before sending anything when the file cannot be read', async () => {
    const server = await fake()
    const path = join(dir, 'missing.csv')
    await assert.rejects(
      runImport(options(server, path), { stdout: new Capture(), stderr: new Capture() }),
      (error: unknown) => error instanceof ImportError && /^cannot read .*missing\.csv: ENOENT$/.test(error.message),
    )
    assert.equal(server.posts.length, 0)
  })

  it('files the rows of a failed job as not processed and counts the job as failed', async () => {
    const server = await fake({ failJobs: [1] })
    const path = join(dir, 'failed.csv')
    writeFileSync(path, 'vehicle_id,code\n1,A\n1,B\n1,C\n')
    const summary = await runImport(options(server, path), { stdout: new Capture(), stderr: new Capture() })
    assert.deepEqual([summary.created, summary.rejected, summary.failedJobs], [1, 2, 1])
    assert.deepEqual(
      rejectedOf(`${path}.rejected.ndjson`).map((entry) => [entry.line, entry.errors.base?.[0]]),
      [
        [3, 'was not processed: bulk job 1 failed'],
        [4, 'was not processed: bulk job 1 failed'],
      ],
    )
  })
})
