// Database.readValues on the engine under test: each read takes a connection and always gives it back.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import { createDatabase, type Database } from '../../src/db/database.js'
import { freshDatabaseUrl } from '../helpers/app.js'

/** More than the PostgreSQL pool's connections (10), so a read that kept its connection would starve the rest. */
const READS = 25

describe('readValues', () => {
  let database: Database
  let drop: () => Promise<void>

  before(async () => {
    const fresh = await freshDatabaseUrl()
    drop = fresh.drop
    database = createDatabase({ DATABASE_URL: fresh.url, SQLITE_SYNCHRONOUS: 'NORMAL' })
  })
  after(async () => {
    await database.close()
    await drop()
  })

  const numbered = (n: number) => sql`select ${n} + 0 as n, 'row' as label`.compile(database.db)

  it('answers column names once and each row as values, for more concurrent reads than the pool has connections', async () => {
    const pages = await Promise.all(Array.from({ length: READS }, (_, n) => database.readValues(numbered(n))))
    pages.forEach((page, n) => {
      assert.deepEqual(page.columns, ['n', 'label'])
      assert.deepEqual([...page.rows], [[n, 'row']])
    })
  })

  // A leaked connection makes the last read wait forever: the timeout turns that into a failure.
  it('gives its connection back when the query fails', { timeout: 10_000 }, async () => {
    const failing = sql`select * from no_such_table`.compile(database.db)
    for (let n = 0; n < READS; n++) await assert.rejects(database.readValues(failing), /no_such_table/)
    const page = await database.readValues(numbered(7))
    assert.deepEqual([...page.rows], [[7, 'row']])
  })
})
