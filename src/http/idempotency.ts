// Idempotency-Key on creates (CONTRACT §7, IETF draft): claim the key, run once, record the outcome
// in the write's own transaction, replay it after. A unique key per account decides races.
import { createHash, randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely, Transaction } from 'kysely'
import { isUniqueViolation } from '../db/errors.js'
import { preparedQuery } from '../db/prepared.js'
import type { DB } from '../db/schema.js'
import type { Principal } from './access.js'
import type { Links } from './hal.js'
import { Problem, problemTypes } from './problem.js'
import { sendReplayed } from './representation.js'
import { addRouteHook } from './route-hooks.js'
import type { Sealer } from './sealing.js'

/** How often expired keys are purged. */
const PURGE_INTERVAL_MS = 10 * 60 * 1000
/** 1..255 printable ASCII, optionally as a Structured Field string ("…"), as the draft writes it. */
const KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route creates something and honours Idempotency-Key. */
    idempotent?: boolean
  }
  interface FastifyRequest {
    idempotency: Claim | null
  }
}

interface Claim {
  accountId: number
  key: string
  lease: string
  completed: boolean
  sealer: Sealer
}

export interface StoredOutcome {
  location: string
  resource: object
  links: Links
}

function parseKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  const raw = (Array.isArray(header) ? header.join(',') : header).trim()
  const key = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw
  if (KEY.test(key)) return key
  throw new Problem(problemTypes.invalidParameter, 'Idempotency-Key must be 1 to 255 printable ASCII characters.', {
    extensions: { parameter: 'Idempotency-Key' },
  })
}

/** JSON with sorted keys: the same payload written in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * Who sent a keyed request: its user, or an OAuth client of the account. Part of the fingerprint, so a
 * replay goes only to the caller that made the original request: a replayed POST /api_keys carries the
 * key's secret, which another member of the account must not receive by sending the same key and body.
 */
export function callerOf(principal: Pick<Principal, 'userId' | 'clientId'> | null): string {
  return principal?.userId != null ? `user:${principal.userId}` : `client:${principal?.clientId ?? ''}`
}

/** What makes two requests "the same" for a key: caller, method, path and the body up to key order. */
export function fingerprint(caller: string, method: string, url: string, body: unknown): string {
  const path = url.split('?', 1)[0]
  return createHash('sha256')
    .update(`${caller}\n${method} ${path}\n${canonical(body)}`)
    .digest('hex')
}

type Decision = { claimed: Claim } | { replay: StoredOutcome & { status: number } }

interface Policy {
  /** Stored outcomes are sealed: a replayed create may carry a secret shown once. */
  sealer: Sealer
  ttlHours: number
  /** A claim older than this belongs to a holder that died before committing (its write never happened). */
  leaseSeconds: number
}

/** 409 while a claim is held, with the seconds until its lease runs out. */
function inUse(retryAfterSeconds: number): Problem {
  return new Problem(
    problemTypes.idempotencyKeyInUse,
    'A request with this Idempotency-Key is still being processed; retry when it completes.',
    {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    },
  )
}

interface NewClaim {
  account_id: number
  key: string
  fingerprint: string
  status: 'in_flight'
  lease: string
  locked_at: string
  expires_at: string
}

/** The two statements every keyed create runs, compiled once. */
const insertClaim = preparedQuery<DB, NewClaim, never>((db, arg) =>
  db.insertInto('idempotency_keys').values({
    account_id: arg('account_id'),
    key: arg('key'),
    fingerprint: arg('fingerprint'),
    status: arg('status'),
    lease: arg('lease'),
    locked_at: arg('locked_at'),
    expires_at: arg('expires_at'),
  }),
)
interface Completion {
  accountId: number
  key: string
  lease: string
  body: string
  location: string
}
const completeClaim = preparedQuery<DB, Completion, never>((db, arg) =>
  db
    .updateTable('idempotency_keys')
    .set({ status: 'completed', response_status: 201, response_body: arg('body'), location: arg('location') })
    .where('account_id', '=', arg('accountId'))
    .where('key', '=', arg('key'))
    .where('lease', '=', arg('lease'))
    .where('status', '=', 'in_flight'),
)

async function claim(db: Kysely<DB>, accountId: number, key: string, fingerprint: string, policy: Policy): Promise<Decision> {
  const now = new Date()
  const lease = randomBytes(12).toString('hex')
  const row: NewClaim = {
    account_id: accountId,
    key,
    fingerprint,
    status: 'in_flight',
    lease,
    locked_at: now.toISOString(),
    expires_at: new Date(now.getTime() + policy.ttlHours * 3_600_000).toISOString(),
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await insertClaim.all(db, row)
      return { claimed: { accountId, key, lease, completed: false, sealer: policy.sealer } }
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
    }
    const existing = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('key', '=', key)
      .executeTakeFirst()
    if (!existing) continue // expired and purged between the two statements: try the insert again
    if (
      Date.parse(String(existing.expires_at instanceof Date ? existing.expires_at.toISOString() : existing.expires_at)) <= now.getTime()
    ) {
      await db
        .deleteFrom('idempotency_keys')
        .where('account_id', '=', accountId)
        .where('key', '=', key)
        .where('lease', '=', existing.lease)
        .execute()
      continue
    }
    if (existing.fingerprint !== fingerprint) {
      throw new Problem(problemTypes.idempotencyKeyReused, 'This Idempotency-Key was used with a different request; use a new key.')
    }
    if (existing.status === 'completed') {
      const stored = JSON.parse(policy.sealer.open(existing.response_body ?? '')) as Omit<StoredOutcome, 'location'>
      return { replay: { ...stored, location: existing.location ?? '', status: existing.response_status ?? 201 } }
    }
    const lockedAt = existing.locked_at instanceof Date ? existing.locked_at.getTime() : Date.parse(existing.locked_at)
    const leaseLeftMs = lockedAt + policy.leaseSeconds * 1000 - now.getTime()
    if (leaseLeftMs > 0) throw inUse(leaseLeftMs / 1000)
    // The holder died without committing: take the key over, unless another retry just did.
    const taken = await db
      .updateTable('idempotency_keys')
      .set({ lease, locked_at: row.locked_at })
      .where('account_id', '=', accountId)
      .where('key', '=', key)
      .where('lease', '=', existing.lease)
      .where('status', '=', 'in_flight')
      .executeTakeFirst()
    if (Number(taken.numUpdatedRows) === 1) return { claimed: { accountId, key, lease, completed: false, sealer: policy.sealer } }
    throw inUse(policy.leaseSeconds)
  }
  throw inUse(1)
}

/**
 * Records the outcome in the write's transaction, so the write and its record commit together or not
 * at all. Throws (rolling the write back) when the lease was lost to a retry that took the key over.
 */
export async function completeIdempotency(trx: Transaction<DB>, request: FastifyRequest, outcome: StoredOutcome): Promise<void> {
  const claimed = request.idempotency
  if (!claimed) return
  const updated = await completeClaim.affected(trx, {
    accountId: claimed.accountId,
    key: claimed.key,
    lease: claimed.lease,
    body: claimed.sealer.seal(JSON.stringify({ resource: outcome.resource, links: outcome.links })),
    location: outcome.location,
  })
  if (updated !== 1) {
    throw new Problem(problemTypes.idempotencyKeyInUse, 'Another request took over this Idempotency-Key; nothing was written.')
  }
  claimed.completed = true
}

/**
 * Runs a create exactly once. With a claimed Idempotency-Key: in a transaction that also records the
 * outcome. Without one: as it is, since a single INSERT is atomic by itself (and BEGIN/COMMIT would
 * cost two more round trips on PostgreSQL).
 */
export async function createOnce<T extends object>(
  db: Kysely<DB>,
  request: FastifyRequest,
  create: (db: Kysely<DB>) => Promise<T>,
  linksOf: (created: T) => Links,
): Promise<T> {
  if (!request.idempotency) return create(db)
  return db.transaction().execute(async (trx) => {
    const created = await create(trx)
    const links = linksOf(created)
    await completeIdempotency(trx, request, { location: links.self, resource: created, links })
    return created
  })
}

async function release(db: Kysely<DB>, claimed: Claim): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('account_id', '=', claimed.accountId)
    .where('key', '=', claimed.key)
    .where('lease', '=', claimed.lease)
    .where('status', '=', 'in_flight')
    .execute()
}

/** Deletes keys past their expiry; returns how many. Runs in the background every few minutes. */
export async function purgeExpiredKeys(db: Kysely<DB>, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<', now.toISOString()).executeTakeFirst()
  return Number(result.numDeletedRows)
}

async function idempotencyPlugin(app: FastifyInstance, options: Policy): Promise<void> {
  const { db } = app.database
  app.decorateRequest('idempotency', null)

  const idempotent = (route: RouteOptions) => route.config?.idempotent === true
  // Before validation: the fingerprint is of the body as sent, before defaults and stripping.
  const claimKey = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    if (request.accountId === 0) return done()
    let key: string | undefined
    try {
      key = parseKey(request.headers['idempotency-key'])
    } catch (error) {
      return done(error as Error)
    }
    if (key === undefined) return done()
    claim(db, request.accountId, key, fingerprint(callerOf(request.principal), request.method, request.url, request.body), options).then(
      (decision) => {
        // A replay answers here; the handler never runs.
        if ('replay' in decision) sendReplayed(request, reply, decision.replay.resource, decision.replay.links)
        else {
          request.idempotency = decision.claimed
          done()
        }
      },
      done,
    )
  }
  addRouteHook(app, 'preValidation', claimKey, idempotent)

  // Whatever did not complete (a 4xx, a 5xx, an aborted request) frees the key for a retry.
  const releaseKey = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
    const claimed = request.idempotency
    if (!claimed || claimed.completed) return done()
    release(db, claimed).then(() => done(), done)
  }
  addRouteHook(app, 'onResponse', releaseKey, idempotent)

  const purge = setInterval(() => {
    purgeExpiredKeys(db).catch((error: unknown) => app.log.warn({ err: error }, 'idempotency key purge failed'))
  }, PURGE_INTERVAL_MS)
  purge.unref()
  app.addHook('onClose', async () => clearInterval(purge))
}

export const idempotency = fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['auth', 'database'] })
