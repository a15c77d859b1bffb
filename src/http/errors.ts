// One place renders every error as application/problem+json: ours, Fastify's, ajv's and the unexpected.
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { acceptedMediaTypes } from './content-types.js'
import { Problem, problemTypes } from './problem.js'
import { validationProblem } from './validation.js'

/** Seconds a client should wait when the database does not answer. */
const DATABASE_RETRY_AFTER_SECONDS = 5

/** Driver error codes that mean "the database is unreachable or busy", not "the query is wrong". */
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'SQLITE_BUSY',
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now
])

/** Turns anything thrown into a Problem. Decisions use error classes and codes, never message text. */
export function toProblem(error: FastifyError | Error, request: FastifyRequest): Problem {
  if (error instanceof Problem) return error
  const fastifyError = error as FastifyError
  if (fastifyError.validation) return validationProblem(fastifyError, request)
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new Problem(problemTypes.malformedRequest, 'The request body is not valid JSON.')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem(problemTypes.malformedRequest, 'The request body is empty but its Content-Type says JSON.')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Problem(problemTypes.malformedRequest, 'The body length does not match the Content-Length header.')
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem(413, 'The request body is larger than this endpoint accepts.')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType(request)
    case 'FST_ERR_BAD_URL':
      return new Problem(problemTypes.malformedRequest, 'The request URL is not valid.')
  }
  if (unavailableCodes.has(String(fastifyError.code))) {
    return new Problem(problemTypes.unavailable, 'The database is not answering. Retry shortly.', {
      headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
    })
  }
  const status = fastifyError.statusCode ?? 500
  if (status >= 400 && status < 500) return new Problem(status, 'The request could not be processed.')
  return new Problem(500, `An unexpected error occurred. Quote request id ${request.id} when reporting it.`)
}

export function unsupportedMediaType(request: FastifyRequest): Problem {
  const received = request.headers['content-type'] ?? 'none'
  return new Problem(415, `Content-Type ${received} is not supported here; send application/json.`, {
    headers: { 'Accept-Post': acceptedMediaTypes.post, 'Accept-Patch': acceptedMediaTypes.patch },
  })
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  reply.code(problem.status)
  for (const name in problem.headers) reply.header(name, problem.headers[name])
  return reply.type('application/problem+json').send(problem.json(reply.request.id))
}

async function errorsPlugin(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error, request)
    if (problem.status >= 500 && !(error instanceof Problem)) {
      request.log.error({ err: error }, 'unhandled error')
    }
    return sendProblem(reply, problem)
  })
}

export const errors = fp(errorsPlugin, { name: 'errors' })

/**
 * Requests Node's HTTP parser rejects never reach Fastify; answer them as problems on the raw socket.
 * An unknown method token is 501 (RFC 9110 §9.1); any other parse failure is 400.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return
  const problem =
    error.code === 'HPE_INVALID_METHOD'
      ? new Problem(501, 'This method is not implemented by any endpoint of this API.')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new Problem(431, 'The request headers are too large.')
        : new Problem(problemTypes.malformedRequest, 'The request could not be parsed as HTTP/1.1.')
  const body = JSON.stringify(problem.body(randomUUID()))
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
      'Content-Type: application/problem+json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
      body,
  )
}
