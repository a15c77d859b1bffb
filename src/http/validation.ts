// Request validation: the ajv compilers, and the one mapping from schema errors to Fleetio's 422 hash.
import type { ErrorObject, Options } from 'ajv'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import type { FastifyError, FastifyRequest } from 'fastify'
import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import { type FieldErrors, NotFound, Problem, problemTypes, ValidationFailed } from './problem.js'

const shared: Options = { strict: false, useDefaults: true, removeAdditional: true }

const rfc3339 = fullFormats['date-time'] as { validate: (value: string) => boolean; compare: (a: string, b: string) => number | undefined }

/**
 * ajv-formats' formats, with `date-time` also an instant a Date can hold: RFC 3339 allows a leap second
 * (23:59:60), which neither a Date nor the stored ISO text can represent (it answered 500 when rendered).
 */
function withFormats(ajv: Ajv): Ajv {
  return addFormats.default(ajv).addFormat('date-time', {
    ...rfc3339,
    type: 'string',
    validate: (value: string) => rfc3339.validate(value) && !Number.isNaN(Date.parse(value)),
  })
}

/**
 * Bodies: every error at once (the contract reports all invalid fields), no type coercion
 * (a JSON client sends JSON types). Query, params and headers: strings coerced to the declared
 * types, first error only (they are few and cheap to fix one by one).
 */
const bodyAjv = withFormats(new Ajv({ ...shared, allErrors: true, coerceTypes: false, verbose: true }))
const parameterAjv = withFormats(new Ajv({ ...shared, allErrors: false, coerceTypes: 'array' }))

/** JSON Pointers of every string in `value` holding U+0000, which PostgreSQL text cannot store. */
function nulPaths(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [path] : []
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, item]) => nulPaths(item, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`))
}

/** Whether any string in `value` holds U+0000: nulPaths' usual answer (none), found without building paths. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (value === null || typeof value !== 'object') return false
  for (const item of Object.values(value)) if (hasNul(item)) return true
  return false
}

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

export function validatorCompiler({ schema, httpPart }: { schema: object; httpPart?: string }): Validate {
  if (httpPart !== 'body') return parameterAjv.compile(schema)
  const validate = bodyAjv.compile(schema)
  // A NUL character is invalid in any field on both engines (PostgreSQL would reject it with a 500).
  const checked: Validate = (data) => {
    const valid = validate(data)
    const nul = hasNul(data)
      ? nulPaths(data).map(
          (instancePath): ErrorObject => ({
            keyword: 'nul',
            instancePath,
            schemaPath: '',
            params: {},
            message: 'contains a NUL character',
          }),
        )
      : []
    checked.errors = nul.length > 0 ? [...(validate.errors ?? []), ...nul] : validate.errors
    return valid && nul.length === 0
  }
  return checked
}

export const messages = {
  blank: "can't be blank",
  taken: 'has already been taken',
  notANumber: 'is not a number',
  notAnInteger: 'must be an integer',
  invalidDateTime: 'is not a valid date-time',
  invalidValue: 'is not a valid value. Please specify one of the predefined values for this field.',
  unknownAttribute: 'is not a known attribute',
  invalid: 'is invalid',
  mustExist: 'must exist',
  noFaultRule: 'must correspond with an existing fault rule',
  tooLong: (max: number) => `is too long (maximum is ${max} characters)`,
  tooShort: (min: number) => `is too short (minimum is ${min} characters)`,
  atLeast: (min: number) => `must be greater than or equal to ${min}`,
  atMost: (max: number) => `must be less than or equal to ${max}`,
} as const

/** The Rails-style message for one ajv error. */
function messageFor(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return messages.blank
    case 'minLength':
      return params.limit === 1 ? messages.blank : messages.tooShort(Number(params.limit))
    case 'maxLength':
      return messages.tooLong(Number(params.limit))
    case 'minimum':
      return messages.atLeast(Number(params.limit))
    case 'maximum':
      return messages.atMost(Number(params.limit))
    case 'enum':
    case 'const':
      return error.data === null ? messages.blank : messages.invalidValue
    case 'format':
      return params.format === 'date-time' || params.format === 'date' ? messages.invalidDateTime : messages.invalid
    case 'additionalProperties':
      return messages.unknownAttribute
    case 'type': {
      if (error.data === null) return messages.blank
      // A nullable field declares `type: [its type, 'null']` (ajv reports it as "integer,null"): name its type.
      const type = String(params.type).split(',')[0]
      if (type === 'integer') return typeof error.data === 'number' ? messages.notAnInteger : messages.notANumber
      if (type === 'number') return messages.notANumber
      return `must be a${type === 'object' || type === 'array' ? 'n' : ''} ${type}`
    }
    default:
      return messages.invalid
  }
}

/** The field an error is about, dotted (`code`, `records.3.code`). */
function fieldOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>
  const extra = params.missingProperty ?? params.additionalProperty
  const path = error.instancePath.split('/').slice(1)
  if (typeof extra === 'string') path.push(extra)
  return path.map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~')).join('.') || 'base'
}

/** Groups ajv errors into field → messages. A nullable field's `null` branch says nothing. */
export function toFieldErrors(errors: readonly ErrorObject[]): FieldErrors {
  const result: FieldErrors = {}
  for (const error of errors) {
    if (error.keyword === 'anyOf') continue
    if (error.keyword === 'type' && (error.params as { type?: string }).type === 'null') continue
    // int32/int64 only restate what the integer type and its bounds already say about the field.
    if (error.keyword === 'format' && /^int(32|64)$/.test(String((error.params as { format?: string }).format))) continue
    const field = fieldOf(error)
    const message = messageFor(error)
    const list = result[field] ?? []
    if (!list.includes(message)) list.push(message)
    result[field] = list
  }
  return result
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Fastify validation failure → 422 (body fields), 400 (query, headers, non-object body) or 404 (path id). */
export function validationProblem(error: FastifyError, request: FastifyRequest): Problem {
  const errors = (error.validation ?? []) as FastifySchemaValidationError[] as ErrorObject[]
  switch (error.validationContext) {
    case 'body':
      if (!isObject(request.body)) {
        return new Problem(problemTypes.malformedRequest, 'The request body must be a JSON object.')
      }
      return new ValidationFailed(toFieldErrors(errors))
    case 'params':
      return new NotFound()
    default: {
      const first = errors[0]
      const name = first ? fieldOf(first) : 'unknown'
      const where = error.validationContext === 'headers' ? 'Header' : 'Query parameter'
      return new Problem(problemTypes.invalidParameter, `${where} ${name} ${first ? messageFor(first) : messages.invalid}.`, {
        extensions: { parameter: name },
      })
    }
  }
}

/**
 * For routes with `attachValidation`: the body's schema errors as a field hash (empty when valid),
 * so domain checks can add theirs and every invalid field is reported at once. Anything that is
 * not a body field error (bad params, a non-object body) is thrown as its problem.
 */
export function bodyFieldErrors(request: FastifyRequest): FieldErrors {
  const error = request.validationError as FastifyError | undefined
  if (!error) return {}
  if (error.validationContext !== 'body' || !isObject(request.body)) throw validationProblem(error, request)
  return toFieldErrors((error.validation ?? []) as unknown as ErrorObject[])
}

/** Adds a message to a field unless the schema already found that field invalid. */
export function addFieldError(errors: FieldErrors, field: string, message: string): void {
  if (errors[field]) return
  errors[field] = [message]
}
