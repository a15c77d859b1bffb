// The records a process keeps for its own worker: batches as the stored chunks cut them, within a room.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { recordHandoff } from '../../src/modules/bulk/bulk.handoff.js'

const records = (count: number, tag: string) => Array.from({ length: count }, (_, i) => ({ external_id: `${tag}-${i}` }))

describe('recordHandoff', () => {
  it('gives the batch at a cursor with each record at its index in the job, and nothing past the end or for a job not kept', () => {
    const handoff = recordHandoff(1000, 100)
    handoff.put(7, records(250, 'a'))
    const second = handoff.take(7, 100)
    assert.equal(second?.length, 100)
    assert.deepEqual(second?.[0], { index: 100, input: { external_id: 'a-100' } })
    assert.deepEqual(second?.at(-1), { index: 199, input: { external_id: 'a-199' } })
    assert.deepEqual(
      handoff.take(7, 200)?.map((record) => record.index),
      Array.from({ length: 50 }, (_, i) => 200 + i),
    )
    assert.equal(handoff.take(7, 250), undefined)
    assert.equal(handoff.take(8, 0), undefined)
  })

  it('makes room by forgetting the longest-kept jobs, keeps no job larger than the room, and forgets a job dropped', () => {
    const handoff = recordHandoff(300, 100)
    handoff.put(1, records(100, 'one'))
    handoff.put(2, records(100, 'two'))
    handoff.put(3, records(150, 'three'))
    assert.equal(handoff.take(1, 0), undefined, 'the longest kept made room')
    assert.equal(handoff.take(2, 0)?.[0]?.input.external_id, 'two-0')
    assert.equal(handoff.take(3, 100)?.length, 50)
    handoff.put(4, records(301, 'four'))
    assert.equal(handoff.take(4, 0), undefined)
    assert.ok(handoff.take(2, 0) && handoff.take(3, 0), 'a job that cannot be kept forgets nothing')
    handoff.drop(2)
    assert.equal(handoff.take(2, 0), undefined)
    handoff.put(5, records(150, 'five'))
    assert.ok(handoff.take(3, 0) && handoff.take(5, 0), 'room freed by a drop is room again')
  })
})
