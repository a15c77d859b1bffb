// SQLite group commit: the writes of one turn share a transaction, each in a savepoint of its own.
// Runs on an SQLite database of its own on either engine's run: the mechanism is SQLite's alone.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import { createDatabase, type Database } from '../../src/db/database.js'
import type { RunSync } from '../../src/db/group-commit.js'

describe('SQLite group commit', () => {
  let dir: string
  let database: Database
  const insert = (run: RunSync, name: string) =>
    run(sql<{ id: number }>`insert into things (name) values (${name}) returning id`.compile(database.db))
  const names = async () =>
    (await sql<{ name: string }>`select name from things order by id`.execute(database.db)).rows.map((row) => row.name)

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'group-commit-'))
    database = createDatabase({ DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, SQLITE_SYNCHRONOUS: 'NORMAL' })
    await sql`create table things (id integer primary key, name text not null unique)`.execute(database.db)
  })
  after(async () => {
    await database.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('commits the writes of one turn together, each answering its own rows', async () => {
    const groupWrite = database.groupWrite
    assert.ok(groupWrite)
    const ids = await Promise.all(['a', 'b', 'c'].map((name) => groupWrite((run) => insert(run, name)[0]?.id)))
    assert.deepEqual(ids, [1, 2, 3])
    assert.deepEqual(await names(), ['a', 'b', 'c'])
  })

  it('rolls back only the write that failed: the others of its turn still commit', async () => {
    const groupWrite = database.groupWrite
    assert.ok(groupWrite)
    const outcomes = await Promise.allSettled([
      groupWrite((run) => insert(run, 'd')),
      groupWrite((run) => {
        insert(run, 'half-done')
        insert(run, 'a') // taken: the write fails, and its first insert goes with it
      }),
      groupWrite(() => {
        throw new Error('refused')
      }),
      groupWrite((run) => insert(run, 'e')),
    ])
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    )
    assert.equal(((outcomes[2] as PromiseRejectedResult).reason as Error).message, 'refused')
    assert.deepEqual(await names(), ['a', 'b', 'c', 'd', 'e'])
  })

  it('waits for a transaction in progress on the connection before it begins its own', async () => {
    const groupWrite = database.groupWrite
    assert.ok(groupWrite)
    let grouped: Promise<unknown> | undefined
    await database.db.transaction().execute(async (trx) => {
      await sql`insert into things (name) values ('in-trx')`.execute(trx)
      grouped = groupWrite((run) => insert(run, 'after-trx'))
      await new Promise((resolve) => setTimeout(resolve, 20))
      await sql`insert into things (name) values ('in-trx-2')`.execute(trx)
    })
    await grouped
    assert.deepEqual((await names()).slice(-3), ['in-trx', 'in-trx-2', 'after-trx'])
  })
})
