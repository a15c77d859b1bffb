// The import command's options: defaults, and a message naming each thing that is wrong.
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { describe, it } from 'node:test'
import { importOptions } from '../../src/import/options.js'
import { ImportError } from '../../src/import/records.js'

const base = { url: 'http://127.0.0.1:3000', 'api-key': 'ffk_k', 'account-token': 'tok' }

describe('import options', () => {
  it('defaults to faults, batches of 1000, two jobs in flight and <file>.rejected.ndjson', () => {
    assert.deepEqual(importOptions(base, ['data/faults.csv']), {
      file: 'data/faults.csv',
      resource: 'fault',
      url: 'http://127.0.0.1:3000',
      apiKey: 'ffk_k',
      accountToken: 'tok',
      batchSize: 1000,
      concurrency: 2,
      rejectedPath: resolve('data/faults.csv.rejected.ndjson'),
    })
    const chosen = importOptions({ ...base, resource: 'vehicle', 'batch-size': '250', concurrency: '4', rejected: 'out.ndjson' }, [
      'v.jsonl',
    ])
    assert.deepEqual(
      [chosen.resource, chosen.batchSize, chosen.concurrency, chosen.rejectedPath],
      ['vehicle', 250, 4, resolve('out.ndjson')],
    )
  })

  for (const [values, positionals, message] of [
    [base, [], /give exactly one file/],
    [base, ['a.csv', 'b.csv'], /give exactly one file/],
    [{ ...base, url: undefined }, ['a.csv'], /--url is required/],
    [{ ...base, 'api-key': ' ' }, ['a.csv'], /--api-key is required/],
    [{ ...base, 'account-token': undefined }, ['a.csv'], /--account-token is required/],
    [{ ...base, url: 'ftp://x' }, ['a.csv'], /--url must be an http\(s\) URL/],
    [{ ...base, 'batch-size': '0' }, ['a.csv'], /--batch-size must be an integer from 1 to 100000/],
    [{ ...base, 'batch-size': '1.5' }, ['a.csv'], /--batch-size must be an integer/],
    [{ ...base, concurrency: '17' }, ['a.csv'], /--concurrency must be an integer from 1 to 16/],
    [{ ...base, resource: 'driver' }, ['a.csv'], /--resource must be one of fault, vehicle/],
    [{ ...base, rejected: './a.csv' }, ['a.csv'], /--rejected must not be the file being imported/],
    [base, ['faults.xlsx'], /name it \.csv, \.ndjson or \.jsonl/],
  ] as const) {
    it(`refuses ${JSON.stringify({ ...values, 'api-key': undefined })} ${positionals.join(' ')}`, () => {
      assert.throws(
        () => importOptions(values, [...positionals]),
        (error: unknown) => error instanceof ImportError && message.test(error.message),
      )
    })
  }
})
