// Rows read as arrays of values and made into objects by a constructor built once per column list. The
// drivers' own row objects are slow to make: better-sqlite3 sets each property through V8's API, which cost
// half the CPU of a 50-row page, where an object literal of a fixed shape costs next to nothing.
import type { CompiledQuery } from 'kysely'

/** A query's answer as the driver reads it without naming: column names once, then each row's values. */
export interface ValueRows {
  columns: readonly string[]
  rows: unknown[][]
}

/** Runs a compiled select and answers its rows as values (Database.readValues). */
export type ReadValues = (query: CompiledQuery) => Promise<ValueRows>

export type RecordBuilder = (values: readonly unknown[]) => Record<string, unknown>

/** Column lists are the product's own queries': a few dozen. The bound only guards against a leak. */
const MAX_BUILDERS = 1000
const builders = new Map<string, RecordBuilder>()

/**
 * The constructor of records with `columns` as keys, from values in that order. Generated (as
 * fast-json-stringify and ajv generate their code): the literal gives every record one hidden class.
 * The names are quoted by JSON.stringify, so any column name is a safe property key.
 */
export function recordBuilder(columns: readonly string[]): RecordBuilder {
  const key = columns.join('\u0000')
  let builder = builders.get(key)
  if (!builder) {
    const fields = columns.map((name, index) => `${JSON.stringify(name)}: values[${index}]`)
    builder = new Function('values', `return { ${fields.join(', ')} }`) as RecordBuilder
    if (builders.size >= MAX_BUILDERS) builders.clear()
    builders.set(key, builder)
  }
  return builder
}
