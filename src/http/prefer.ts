// Prefer (RFC 7240): return=representation|minimal and handling=strict|lenient, and echoing what was applied.
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface Preference {
  /** The value; undefined when none or empty was given (RFC 7240 §2: empty equals absent). */
  value: string | undefined
  parameters: Record<string, string | undefined>
}

/** Splits on `separator` outside quoted strings. */
function splitOutsideQuotes(text: string, separator: ',' | ';'): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string
    if (quoted && char === '\\') {
      current += char + (text[index + 1] ?? '')
      index++
      continue
    }
    if (char === '"') quoted = !quoted
    if (char === separator && !quoted) {
      parts.push(current)
      current = ''
    } else current += char
  }
  parts.push(current)
  return parts
}

/** `name[=word]` with the name lowercased (names are case-insensitive) and the word unquoted (values are not). */
function nameValue(pair: string): [string, string | undefined] {
  const equals = pair.indexOf('=')
  const name = (equals === -1 ? pair : pair.slice(0, equals)).trim().toLowerCase()
  if (equals === -1) return [name, undefined]
  let value = pair.slice(equals + 1).trim()
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1')
  return [name, value === '' ? undefined : value]
}

/** Every preference of one or more Prefer fields; a preference given twice counts the first time only (§2). */
export function parsePrefer(field: string | string[] | undefined): Map<string, Preference> {
  const preferences = new Map<string, Preference>()
  const text = Array.isArray(field) ? field.join(',') : (field ?? '')
  for (const item of splitOutsideQuotes(text, ',')) {
    const [head = '', ...rest] = splitOutsideQuotes(item, ';')
    const [name, value] = nameValue(head)
    if (name === '' || preferences.has(name)) continue
    const parameters: Record<string, string | undefined> = {}
    for (const parameter of rest) {
      const [key, parameterValue] = nameValue(parameter)
      if (key !== '' && !(key in parameters)) parameters[key] = parameterValue
    }
    preferences.set(name, { value, parameters })
  }
  return preferences
}

const parsed = new WeakMap<FastifyRequest, ReadonlyMap<string, Preference>>()
const NONE: ReadonlyMap<string, Preference> = new Map()

/** The request's preferences, parsed once per request (most requests send none: nothing to parse or keep). */
export function preferencesOf(request: FastifyRequest): ReadonlyMap<string, Preference> {
  if (request.headers.prefer === undefined) return NONE
  let preferences = parsed.get(request)
  if (!preferences) {
    preferences = parsePrefer(request.headers.prefer)
    parsed.set(request, preferences)
  }
  return preferences
}

/** `return=representation` or `return=minimal`; undefined when absent or anything else (unknown values are ignored). */
export function preferReturn(request: FastifyRequest): 'representation' | 'minimal' | undefined {
  const value = preferencesOf(request).get('return')?.value
  return value === 'representation' || value === 'minimal' ? value : undefined
}

/** True for `handling=strict`: unknown attributes become 422s instead of being ignored. */
export function preferStrict(request: FastifyRequest): boolean {
  return preferencesOf(request).get('handling')?.value === 'strict'
}

/** Adds a field name to a comma-separated response header unless it is there already (Vary, Preference-Applied). */
function appendToken(reply: FastifyReply, header: string, token: string): void {
  const current = reply.getHeader(header)
  const tokens = String(current ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
  if (tokens.some((item) => item.toLowerCase() === token.toLowerCase())) return
  reply.header(header, [...tokens, token].join(', '))
}

/** `Vary: Prefer`, for every response whose form depends on Prefer (whether or not this request sent one). */
export function varyOnPrefer(reply: FastifyReply): void {
  appendToken(reply, 'Vary', 'Prefer')
}

/** Echoes one preference that was honoured, e.g. `return=representation`; never one that was not. */
export function preferenceApplied(reply: FastifyReply, preference: string): void {
  appendToken(reply, 'Preference-Applied', preference)
}
