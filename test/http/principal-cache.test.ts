// The principal cache: what it keeps, for how long, and that a change to credentials wins over a lookup in flight.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Principal } from '../../src/http/access.js'
import { createPrincipalCache } from '../../src/http/principal-cache.js'

const principal = (userId: number, expiresAt?: number): Principal => ({
  kind: 'key',
  userId,
  accountId: 1,
  boundAccountId: null,
  role: 'admin',
  scopes: null,
  apiVersion: '2024-06-30',
  expiresAt,
})

/** A loader that counts its calls and answers what it is told. */
function loader(answer: () => Principal | null) {
  const calls = { count: 0 }
  return {
    calls,
    load: async () => {
      calls.count++
      return answer()
    },
  }
}

describe('principal cache', () => {
  it('checks a credential once within the time it is remembered, again after', async () => {
    let clock = 1_000_000
    const cache = createPrincipalCache(10, () => clock)
    const { calls, load } = loader(() => principal(7))
    assert.equal((await cache.lookup('key-a', load))?.userId, 7)
    assert.equal((await cache.lookup('key-a', load))?.userId, 7)
    assert.equal(calls.count, 1)
    clock += 9_999
    await cache.lookup('key-a', load)
    assert.equal(calls.count, 1)
    clock += 2
    await cache.lookup('key-a', load)
    assert.equal(calls.count, 2)
  })

  it('keeps credentials apart', async () => {
    const cache = createPrincipalCache(10)
    assert.equal((await cache.lookup('key-a', async () => principal(1)))?.userId, 1)
    assert.equal((await cache.lookup('key-b', async () => principal(2)))?.userId, 2)
    assert.equal((await cache.lookup('key-a', async () => principal(3)))?.userId, 1)
  })

  it('never remembers a credential that is not valid', async () => {
    const cache = createPrincipalCache(10)
    let valid = false
    const { calls, load } = loader(() => (valid ? principal(7) : null))
    assert.equal(await cache.lookup('key-a', load), null)
    valid = true
    assert.equal((await cache.lookup('key-a', load))?.userId, 7)
    assert.equal(calls.count, 2)
  })

  it('forgets everything when credentials change', async () => {
    const cache = createPrincipalCache(10)
    let revoked = false
    const load = async () => (revoked ? null : principal(7))
    assert.ok(await cache.lookup('key-a', load))
    revoked = true
    assert.ok(await cache.lookup('key-a', load), 'remembered until told')
    cache.invalidate()
    assert.equal(await cache.lookup('key-a', load), null)
  })

  it('does not keep what a lookup read while a change happened', async () => {
    const cache = createPrincipalCache(10)
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const stale = cache.lookup('key-a', async () => {
      await gate
      return principal(7)
    })
    cache.invalidate() // the key is revoked while the lookup above still reads the old row
    release()
    assert.equal((await stale)?.userId, 7, 'the request that was already in flight is answered')
    const { calls, load } = loader(() => null)
    assert.equal(await cache.lookup('key-a', load), null)
    assert.equal(calls.count, 1, 'the old row was not remembered')
  })

  it('remembers a credential no longer than it is valid (a bearer token that expires)', async () => {
    let clock = 1_000_000
    const cache = createPrincipalCache(10, () => clock)
    const { calls, load } = loader(() => principal(7, 1_000_500))
    await cache.lookup('token', load)
    clock = 1_000_499
    await cache.lookup('token', load)
    assert.equal(calls.count, 1)
    clock = 1_000_500
    await cache.lookup('token', load)
    assert.equal(calls.count, 2)
  })

  it('checks every time when the cache is off (0 seconds)', async () => {
    const cache = createPrincipalCache(0)
    const { calls, load } = loader(() => principal(7))
    await cache.lookup('key-a', load)
    await cache.lookup('key-a', load)
    assert.equal(calls.count, 2)
  })
})
