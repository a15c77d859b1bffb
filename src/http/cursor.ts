// Opaque list cursors: base64url JSON sealed with a truncated HMAC, so a client can neither forge nor edit one.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/** Key material for cursor MACs. Share it between replicas, or a cursor breaks when the next page hits another one. */
export type CursorSecret = string | Uint8Array

export type SortDirection = 'asc' | 'desc'

/** Where the previous page stopped: the sort key of its last row, and that row's id (the tiebreak). */
export interface KeysetPosition {
  value: string | number
  id: number
}

/** What a cursor carries. `fingerprint` binds it to one list (route, scope, filters); `sort` to one order. */
export interface CursorPayload {
  after: KeysetPosition
  sort: { field: string; direction: SortDirection }
  fingerprint: string
}

/** 16 bytes of HMAC-SHA256: forging one takes 2^128 guesses, and the cursor stays short enough for a URL. */
const MAC_BYTES = 16
/** Domain separation, so these MACs can never be confused with anything else signed with the same secret. */
const MAC_CONTEXT = 'fleet-faults list cursor v1\n'

function mac(body: string, secret: CursorSecret): Buffer {
  return createHmac('sha256', secret).update(MAC_CONTEXT).update(body).digest().subarray(0, MAC_BYTES)
}

export function encodeCursor(payload: CursorPayload, secret: CursorSecret): string {
  const { after, sort, fingerprint } = payload
  const body = Buffer.from(JSON.stringify({ k: [after.value, after.id], s: [sort.field, sort.direction], f: fingerprint })).toString(
    'base64url',
  )
  return `${body}.${mac(body, secret).toString('base64url')}`
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** The payload of a cursor this server issued, or null for anything else (garbage, edited, other secret). */
export function decodeCursor(token: string, secret: CursorSecret): CursorPayload | null {
  const [body, signature, extra] = token.split('.')
  if (!body || !signature || extra !== undefined) return null
  // Compared as text, not decoded: base64url decoding ignores the spare low bits of the last character, so a
  // decoded comparison would accept several spellings of one MAC, and an edited cursor would still pass.
  const expected = Buffer.from(mac(body, secret).toString('base64url'))
  const given = Buffer.from(signature)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
  let raw: unknown
  try {
    raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    return null
  }
  // Authentic, but still checked: a payload from an older release may not have today's shape.
  if (!isRecord(raw) || !Array.isArray(raw.k) || !Array.isArray(raw.s) || typeof raw.f !== 'string') return null
  const [value, id] = raw.k as unknown[]
  const [field, direction] = raw.s as unknown[]
  if ((typeof value !== 'string' && typeof value !== 'number') || !Number.isSafeInteger(id)) return null
  if (typeof field !== 'string' || (direction !== 'asc' && direction !== 'desc')) return null
  return { after: { value, id: id as number }, sort: { field, direction }, fingerprint: raw.f }
}

/** A short stable digest of anything JSON-serializable (keys in the given order: callers canonicalize). */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 16)
}
