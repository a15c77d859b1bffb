// Prefer: handling=strict (RFC 7240 §4.4): unknown body attributes become 422s instead of being silently dropped.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { preferenceApplied, preferStrict } from './prefer.js'
import { type FieldErrors, ValidationFailed } from './problem.js'
import { addRouteHook } from './route-hooks.js'
import { messages, toFieldErrors } from './validation.js'

interface ObjectSchema {
  type: 'object'
  properties?: Record<string, unknown>
  patternProperties?: Record<string, unknown>
}

const isObjectSchema = (schema: unknown): schema is ObjectSchema =>
  typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'object'

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Top-level keys of `body` that `schema` neither declares nor admits by pattern. */
export function unknownAttributes(body: Readonly<Record<string, unknown>>, schema: ObjectSchema): string[] {
  const declared = schema.properties ?? {}
  const patterns = Object.keys(schema.patternProperties ?? {}).map((pattern) => new RegExp(pattern, 'u'))
  return Object.keys(body).filter((key) => !Object.hasOwn(declared, key) && !patterns.some((pattern) => pattern.test(key)))
}

type Validate = ((data: unknown) => boolean) & { errors?: Parameters<typeof toFieldErrors>[0] | null }

/**
 * Runs before validation, while the body still has its unknown keys (ajv's removeAdditional would strip
 * them). When there are some, it also runs the route's own validator on a copy, so the 422 lists the
 * unknown attributes together with every other invalid field, as a lenient request would list those.
 */
function checkUnknownAttributes(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
  try {
    rejectUnknownAttributes(request, reply)
    done()
  } catch (error) {
    done(error as Error)
  }
}

function rejectUnknownAttributes(request: FastifyRequest, reply: FastifyReply): void {
  if (!preferStrict(request)) return
  const schema = request.routeOptions.schema?.body
  if (!isObjectSchema(schema)) return
  preferenceApplied(reply, 'handling=strict')
  const body = request.body
  if (!isPlainObject(body)) return // not an object: validation answers the malformed body as usual
  const unknown = unknownAttributes(body, schema)
  if (unknown.length === 0) return
  const errors: FieldErrors = {}
  const validate = request.getValidationFunction('body') as Validate | undefined
  if (typeof validate === 'function' && !validate(structuredClone(body))) Object.assign(errors, toFieldErrors(validate.errors ?? []))
  for (const key of unknown) errors[key] = [messages.unknownAttribute]
  throw new ValidationFailed(errors)
}

async function strictHandlingPlugin(app: FastifyInstance): Promise<void> {
  // Only routes whose body is an object have attributes to be strict about.
  addRouteHook(app, 'preValidation', checkUnknownAttributes, (route) => isObjectSchema(route.schema?.body))
}

/** Register before the routes it should cover (hooks apply to routes added after them in the same scope). */
export const strictHandling = fp(strictHandlingPlugin, { name: 'strict-handling' })
