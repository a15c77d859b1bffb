// Idempotency-Key on creates (CONTRACT §7, IETF draft). The process serving a key holds it, so a twin
// sent meanwhile gets 409; the outcome is written as a row in the write's own transaction (or statement)
// and replayed after. The unique key per account decides races between replicas: the later write fails
// whole, writing nothing, and answers 409 (a retry then gets the replay).
import { hash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely, Transaction } from 'kysely'
import { isUniqueViolation, violatedConstraint } from '../db/errors.js'
import type { RunSync } from '../db/group-commit.js'
import { preparedQuery } from '../db/prepared.js'
import { type DB, toIso } from '../db/schema.js'
import type { Principal } from './access.js'
import type { Links } from './hal.js'
import { Problem, problemTypes } from './problem.js'
import { sendReplayed } from './representation.js'
import { addRouteHook, addRouteHookFor } from './route-hooks.js'
import type { Sealer } from './sealing.js'

/** How often expired keys are purged. */
const PURGE_INTERVAL_MS = 10 * 60 * 1000
/** 1..255 printable ASCII, optionally as a Structured Field string ("…"), as the draft writes it. */
const KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route creates something and honours Idempotency-Key. `true`: a hook replays a stored outcome
     * before validation; 'in-handler': the handler looks it up in its own first query and calls
     * storedOutcome (one round trip fewer on the hottest create).
     */
    idempotent?: true | 'in-handler'
  }
  interface FastifyRequest {
    idempotency: Claim | null
  }
}

interface Claim {
  accountId: number
  key: string
  fingerprint: string
  /** Where this process holds the key while the request runs. */
  slot: string
  policy: Policy
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
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  const object = value as Record<string, unknown>
  const keys = Object.keys(object).sort()
  // A flat object (a create's usual body) is a copy with its keys in order, written by native code.
  const sorted: Record<string, unknown> = {}
  for (const key of keys) {
    const member = object[key]
    if ((member !== null && typeof member === 'object') || key === '__proto__') {
      return `{${keys.map((name) => `${JSON.stringify(name)}:${canonical(object[name])}`).join(',')}}`
    }
    sorted[key] = member
  }
  return JSON.stringify(sorted)
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
  return hash('sha256', `${caller}\n${method} ${path}\n${canonical(body)}`, 'hex')
}

interface Policy {
  /** Stored outcomes are sealed: a replayed create may carry a secret shown once. */
  sealer: Sealer
  ttlHours: number
}

/** 409 while a twin request holds the key (or wrote its outcome a moment before this one). */
function inUse(): Problem {
  return new Problem(
    problemTypes.idempotencyKeyInUse,
    'A request with this Idempotency-Key is still being processed; retry when it completes.',
    { headers: { 'Retry-After': '1' } },
  )
}

function reused(): Problem {
  return new Problem(problemTypes.idempotencyKeyReused, 'This Idempotency-Key was used with a different request; use a new key.')
}

/** The row that records a create's outcome under its key. */
export interface OutcomeRecord {
  account_id: number
  key: string
  fingerprint: string
  response_body: string
  location: string
  expires_at: string
}
const RECORD_COLUMNS = ['account_id', 'key', 'fingerprint', 'response_body', 'location', 'expires_at'] as const

/** The name of the constraint that lets one outcome per key and account exist. */
const RECORD_KEY_CONSTRAINT = 'idempotency_keys_pk'

const findRecord = preparedQuery<DB, { accountId: number; key: string }, StoredRecord>((db, arg) =>
  db
    .selectFrom('idempotency_keys')
    .select(['fingerprint', 'response_body', 'location', 'expires_at'])
    .where('account_id', '=', arg('accountId'))
    .where('key', '=', arg('key')),
)

const insertRecord = preparedQuery<DB, OutcomeRecord, never>((db, arg) =>
  db
    .insertInto('idempotency_keys')
    .values(Object.fromEntries(RECORD_COLUMNS.map((column) => [column, arg(column)])) as unknown as OutcomeRecord),
)

/** What is kept of an outcome, as a lookup finds it. */
export type StoredRecord = Omit<OutcomeRecord, 'account_id' | 'key'>

/**
 * Judges the record found under the claim's key: undefined when there is none to honour (none, or one past
 * its lifetime, which is deleted), 422 when it was for another request, else the outcome to replay.
 */
async function judgeStored(
  db: Kysely<DB>,
  claim: Claim,
  existing: StoredRecord | undefined,
  now: Date,
  decodePlain?: PlainOutcomeDecoder,
): Promise<StoredOutcome | undefined> {
  if (!existing) return undefined
  if (Date.parse(toIso(existing.expires_at) ?? '') <= now.getTime()) {
    // Past its lifetime: forgotten, as the purge would have done.
    await db
      .deleteFrom('idempotency_keys')
      .where('account_id', '=', claim.accountId)
      .where('key', '=', claim.key)
      .where('expires_at', '<=', now.toISOString())
      .execute()
    return undefined
  }
  if (existing.fingerprint !== claim.fingerprint) throw reused()
  const body = existing.response_body
  if (body.startsWith('{')) {
    // Written in the clear by a route whose outcomes hold no secret (sealed bodies are base64url).
    if (!decodePlain) throw new Error('a plain outcome record for a route that cannot read one')
    return { ...decodePlain(body), location: existing.location }
  }
  const stored = JSON.parse(claim.policy.sealer.open(body)) as Omit<StoredOutcome, 'location'>
  return { ...stored, location: existing.location }
}

/** Reads an outcome a route recorded in the clear (plainOutcomeRecord) back into what is replayed. */
export type PlainOutcomeDecoder = (body: string) => Omit<StoredOutcome, 'location'>

/**
 * For a route whose handler looks the stored outcome up in its own first query (`idempotent: 'in-handler'`):
 * the outcome to replay (sendReplayed), or undefined to go on: nothing stored, or an outcome past its lifetime
 * (deleted). 422 when the key was used for another request. `decodePlain` reads the route's plain records.
 */
export async function storedOutcome(
  db: Kysely<DB>,
  request: FastifyRequest,
  found: StoredRecord | undefined,
  decodePlain?: PlainOutcomeDecoder,
): Promise<StoredOutcome | undefined> {
  const claim = request.idempotency
  if (!claim || !found) return undefined
  return judgeStored(db, claim, found, new Date(), decodePlain)
}

/**
 * What a route's lookup selects from the record under a create's key, joined as `stored` (left join
 * idempotency_keys as stored on its account and key): the columns of StoredRecordColumns.
 */
export const storedRecordSelection = [
  'stored.fingerprint as stored_fingerprint',
  'stored.response_body as stored_response_body',
  'stored.location as stored_location',
  'stored.expires_at as stored_expires_at',
] as const

/** The columns of storedRecordSelection (all null when nothing is stored under the key). */
export interface StoredRecordColumns {
  stored_fingerprint: string | null
  stored_response_body: string | null
  stored_location: string | null
  stored_expires_at: Date | string | null
}

/** The record from the columns of storedRecordSelection, if there was one. */
export function storedRecordOf(row: Partial<StoredRecordColumns>): StoredRecord | undefined {
  if (row.stored_fingerprint == null) return undefined
  return {
    fingerprint: row.stored_fingerprint,
    response_body: row.stored_response_body ?? '',
    location: row.stored_location ?? '',
    expires_at: toIso(row.stored_expires_at ?? null) ?? '',
  }
}

/** What a record of the key `request` holds says before its outcome is known; null when it holds no key. */
export function pendingRecord(request: FastifyRequest): Omit<OutcomeRecord, 'response_body' | 'location'> | null {
  const claim = request.idempotency
  if (!claim) return null
  return {
    account_id: claim.accountId,
    key: claim.key,
    fingerprint: claim.fingerprint,
    expires_at: expiresAt(claim.policy.ttlHours),
  }
}

/** The last expiry written, by the second it was computed in: keys live hours, a second of it is no matter. */
let expiry = { second: -1, ttlHours: 0, at: '' }

/** When a key recorded now expires, as ISO text (toISOString is a visible share of a keyed create). */
function expiresAt(ttlHours: number): string {
  const second = Math.floor(Date.now() / 1000)
  if (second !== expiry.second || ttlHours !== expiry.ttlHours) {
    expiry = { second, ttlHours, at: new Date(second * 1000 + ttlHours * 3_600_000).toISOString() }
  }
  return expiry.at
}

/** The row recording `body` (sealed, or a plain record) and `location` under the key `claim` holds. */
function recordOf(claim: Claim, location: string, body: string): OutcomeRecord {
  return {
    account_id: claim.accountId,
    key: claim.key,
    fingerprint: claim.fingerprint,
    response_body: body,
    location,
    expires_at: expiresAt(claim.policy.ttlHours),
  }
}

/** The record of `outcome` for the key `request` holds, sealed; null when it holds none. */
export function outcomeRecord(request: FastifyRequest, outcome: StoredOutcome): OutcomeRecord | null {
  const claim = request.idempotency
  if (!claim) return null
  return recordOf(claim, outcome.location, claim.policy.sealer.seal(JSON.stringify({ resource: outcome.resource, links: outcome.links })))
}

/**
 * The record of an outcome that holds no secret, kept in the clear as `body` (a JSON object, which a sealed
 * body never looks like) and read back by the route's PlainOutcomeDecoder; null when `request` holds no key.
 */
export function plainOutcomeRecord(request: FastifyRequest, location: string, body: string): OutcomeRecord | null {
  return request.idempotency && recordOf(request.idempotency, location, body)
}

/**
 * A unique violation on the outcome's key means a twin (on another replica) recorded it first: the write
 * it came with fails whole, nothing is written, and the request answers 409. Other errors pass through.
 * (SQLite does not name the constraint; there the record's own statement raised it.)
 */
function twinRecordedFirst(error: unknown): unknown {
  const constraint = violatedConstraint(error)
  return isUniqueViolation(error) && (constraint === undefined || constraint === RECORD_KEY_CONSTRAINT) ? inUse() : error
}

/**
 * Records the outcome in the write's transaction, so the write and its record commit together or not
 * at all. A twin that recorded first (another replica) fails the transaction: nothing is written, 409.
 */
export async function completeIdempotency(trx: Transaction<DB>, request: FastifyRequest, outcome: StoredOutcome): Promise<void> {
  const record = outcomeRecord(request, outcome)
  if (!record) return
  try {
    await insertRecord.all(trx, record)
  } catch (error) {
    throw twinRecordedFirst(error)
  }
}

/** completeIdempotency inside a group write (SQLite): the record (outcomeRecord or plainOutcomeRecord) in the write's savepoint. */
export function completeIdempotencySync(run: RunSync, db: Kysely<DB>, record: OutcomeRecord | null): void {
  if (!record) return
  try {
    run(insertRecord.compile(db, record))
  } catch (error) {
    throw twinRecordedFirst(error)
  }
}

/**
 * Runs `write`, a single statement that writes the resource and, when `recorded`, the record of its outcome
 * (the statement builds it, e.g. from pendingRecord): as completeIdempotency, a twin that recorded first
 * fails it whole with 409.
 */
export async function writeRecorded<T>(recorded: boolean, write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    throw recorded ? twinRecordedFirst(error) : error
  }
}

/**
 * Runs a create exactly once. With an Idempotency-Key: in a transaction that also records the outcome.
 * Without one: as it is, since a single INSERT is atomic by itself (and BEGIN/COMMIT would cost two more
 * round trips on PostgreSQL).
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

/** Keys a purge deletes per statement: SQLite serves every request on one connection, which a delete holds. */
const PURGE_BATCH = 1000

/**
 * Deletes keys past their expiry, `batch` at a time with a turn of the event loop between, so requests
 * go on meanwhile (a busy day leaves hundreds of thousands); returns how many. Runs in the background
 * every few minutes.
 */
export async function purgeExpiredKeys(db: Kysely<DB>, now = new Date(), batch = PURGE_BATCH): Promise<number> {
  const cutoff = now.toISOString()
  let purged = 0
  for (;;) {
    const expired = db
      .selectFrom('idempotency_keys')
      .select(['account_id', 'key'])
      .where('expires_at', '<', cutoff)
      .limit(batch)
      .$asTuple('account_id', 'key')
    const result = await db
      .deleteFrom('idempotency_keys')
      .where(({ eb, refTuple }) => eb(refTuple('account_id', 'key'), 'in', expired))
      .executeTakeFirst()
    const deleted = Number(result.numDeletedRows)
    purged += deleted
    if (deleted < batch) return purged
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function idempotencyPlugin(app: FastifyInstance, options: Policy): Promise<void> {
  const { db } = app.database
  app.decorateRequest('idempotency', null)
  /** Keys this process is serving, by account and key, with their request's fingerprint. */
  const held = new Map<string, string>()

  const idempotent = (route: RouteOptions) => route.config?.idempotent !== undefined
  // Before validation: the fingerprint is of the body as sent, before defaults and stripping.
  const claimKey = (inHandler: boolean) => (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    if (request.accountId === 0) return done()
    let claim: Claim
    try {
      const key = parseKey(request.headers['idempotency-key'])
      if (key === undefined) return done()
      const print = fingerprint(callerOf(request.principal), request.method, request.url, request.body)
      const slot = `${request.accountId}\n${key}`
      const holder = held.get(slot)
      if (holder !== undefined) throw holder === print ? inUse() : reused()
      claim = { accountId: request.accountId, key, fingerprint: print, slot, policy: options }
    } catch (error) {
      return done(error as Error)
    }
    held.set(claim.slot, claim.fingerprint)
    request.idempotency = claim
    if (inHandler) return done()
    findRecord
      .first(db, { accountId: claim.accountId, key: claim.key })
      .then((found) => judgeStored(db, claim, found, new Date()))
      .then((stored) => {
        // A replay answers here; the handler never runs.
        if (stored) sendReplayed(request, reply, stored.resource, stored.links)
        else done()
      }, done)
  }
  const claimKeys = { hook: claimKey(false), inHandler: claimKey(true) }
  addRouteHookFor(app, 'preValidation', (route) => {
    const mode = route.config?.idempotent
    return mode === undefined ? undefined : mode === 'in-handler' ? claimKeys.inHandler : claimKeys.hook
  })

  // However the request ended (written, replayed, failed, aborted), the key is free for the next one.
  const releaseKey = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    if (request.idempotency) held.delete(request.idempotency.slot)
    done()
  }
  addRouteHook(app, 'onResponse', releaseKey, idempotent)

  const purge = setInterval(() => {
    purgeExpiredKeys(db).catch((error: unknown) => app.log.warn({ err: error }, 'idempotency key purge failed'))
  }, PURGE_INTERVAL_MS)
  purge.unref()
  app.addHook('onClose', async () => clearInterval(purge))
}

export const idempotency = fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['auth', 'database'] })
