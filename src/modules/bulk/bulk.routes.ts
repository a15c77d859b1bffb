// /api/v1/bulk_api_jobs: accept a job (202, processed in the background), show it, list them.
// Also starts this process's worker, which stops with the app.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type TSchema, Type } from 'typebox'
import type { Permission } from '../../http/access.js'
import { entityTag } from '../../http/conditional.js'
import type { CursorSecret } from '../../http/cursor.js'
import { halResource } from '../../http/hal.js'
import { completeIdempotency } from '../../http/idempotency.js'
import { ListQuerystring, type ListSpec } from '../../http/list-query.js'
import { HAL_TYPE, JSON_TYPE } from '../../http/negotiation.js'
import { preferStrict } from '../../http/prefer.js'
import { type FieldErrors, NotFound, ValidationFailed } from '../../http/problem.js'
import { emptyResponse, listResponse, resourceResponse, responseHeaders, sendResource } from '../../http/representation.js'
import { answerList } from '../../http/resource.js'
import { apiProblems, IdempotencyHeaders, IdParams } from '../../http/schemas.js'
import { bodyFieldErrors, messages } from '../../http/validation.js'
import { insertJob, isUnfinished, jobLinks, jobsQuery, loadJob, toJob, toJobSummary } from './bulk.repository.js'
import { BulkJob, BulkJobSummary, CreateBulkJob, supportedOperations } from './bulk.schemas.js'
import { createBulkWorker } from './bulk.worker.js'

const tags = ['bulk']
/** Seconds a client should wait before polling an unfinished job again: a batch takes well under one. */
const POLL_AFTER_SECONDS = 1
/** Room per record in a job's body: a fault or vehicle in JSON is a few hundred bytes, a long description more. */
const BODY_BYTES_PER_RECORD = 4096
/**
 * There is no bulk:read scope: a job's results are its submitter's writes, so reading jobs takes the
 * permission that runs them (editor, or a bearer token with bulk:write) rather than opening them to viewers.
 */
const permission: Permission = 'bulk:write'

const listSpec: ListSpec = {
  idColumn: 'id',
  sorts: { created_at: { type: 'datetime' } },
  filters: {
    status: { type: 'enum', values: ['queued', 'processing', 'completed', 'failed'], ops: ['eq', 'include'] },
    resource: { type: 'enum', values: ['fault', 'vehicle'], ops: ['eq'] },
    operation: { type: 'enum', values: ['create', 'update'], ops: ['eq'] },
    created_at: { type: 'datetime', ops: ['lt', 'lte', 'gt', 'gte'] },
  },
}

const header = (description: string, schema: TSchema = Type.String({ maxLength: 4096 })) => ({ ...schema, description })
const jobHeaders = {
  'Content-Location': header('Path of the job: poll it for the results'),
  'Retry-After': header(
    'Seconds to wait before polling again; only while the job is queued or processing',
    Type.Integer({ minimum: 0, maximum: 3600, format: 'int32' }),
  ),
}

/** The envelope's 422s; deeper paths inside a record are the worker's to report, record by record. */
function envelopeErrors(request: FastifyRequest, maxRecords: number): FieldErrors {
  const errors = Object.fromEntries(Object.entries(bodyFieldErrors(request)).filter(([field]) => !/^records\.\d+\./.test(field)))
  const body = request.body as Partial<Record<keyof CreateBulkJob, unknown>>
  if (Array.isArray(body.records) && body.records.length === 0) errors.records = [messages.blank]
  if (Array.isArray(body.records) && body.records.length > maxRecords) errors.records = [`is too long (maximum is ${maxRecords} records)`]
  const resource = body.resource as keyof typeof supportedOperations
  if (!errors.resource && !errors.operation && !supportedOperations[resource].includes(body.operation as CreateBulkJob['operation'])) {
    errors.operation = [`is not supported for resource ${resource}`]
  }
  return errors
}

function representation(request: FastifyRequest, reply: FastifyReply, job: BulkJob) {
  const links = jobLinks(job)
  reply.header('Content-Location', links.self).header('ETag', entityTag(job, request.hal ? 'hal' : 'json'))
  if (isUnfinished(job)) reply.header('Retry-After', String(POLL_AFTER_SECONDS))
  return { type: request.hal ? HAL_TYPE : JSON_TYPE, body: request.hal ? halResource(job, links) : job }
}

export const bulkRoutes: FastifyPluginAsyncTypebox<{
  cursorSecret: CursorSecret
  maxRecords: number
  batchSize: number
  retentionDays: number
}> = async (app, { cursorSecret, maxRecords, batchSize, retentionDays }) => {
  const { db } = app.database
  const worker = createBulkWorker({ database: app.database, log: app.log, retentionDays })
  app.addHook('onReady', async () => worker.start())
  app.addHook('onClose', async () => worker.stop())

  app.post(
    '/bulk_api_jobs',
    {
      config: { permission, idempotent: true },
      bodyLimit: maxRecords * BODY_BYTES_PER_RECORD,
      attachValidation: true,
      schema: {
        tags,
        summary: 'Submit a bulk job',
        description:
          'Creates faults, or creates or updates (by id) vehicles, in the background. Each record gets the rules, messages and status of its single endpoint; poll Content-Location for the results.',
        body: CreateBulkJob,
        headers: IdempotencyHeaders,
        response: {
          202: resourceResponse(BulkJob, 'Accepted: the job, queued', jobHeaders),
          200: resourceResponse(BulkJob, 'Replayed: the same Idempotency-Key and payload were sent before; the job as it is now', {
            ...jobHeaders,
            'Idempotent-Replayed': responseHeaders['Idempotent-Replayed'],
          }),
          ...apiProblems(409, 413, 415, 422),
        },
      },
      // A replay (answered by the idempotency hook from the stored 202) shows the job as it is now, like GET,
      // and keeps the 202's headers: Content-Location, not Location, which would name a created resource.
      onSend: async (request, reply, payload) => {
        if (reply.getHeader('idempotent-replayed') !== 'true') return payload
        const self = String(reply.getHeader('location'))
        reply.removeHeader('location')
        const job = await loadJob(db, request.accountId, Number(self.slice(self.lastIndexOf('/') + 1)))
        if (!job) return payload // purged since: the stored job is all there is
        return JSON.stringify(representation(request, reply, job).body)
      },
    },
    async (request, reply) => {
      const errors = envelopeErrors(request, maxRecords)
      if (Object.keys(errors).length > 0) throw new ValidationFailed(errors)
      const { resource, operation, records } = request.body
      const job = await db.transaction().execute(async (trx) => {
        const created = toJob(
          await insertJob(trx, request.accountId, { resource, operation, strict: preferStrict(request), records }, batchSize),
          [],
        )
        await completeIdempotency(trx, request, { location: jobLinks(created).self, resource: created, links: jobLinks(created) })
        return created
      })
      worker.kick()
      const { type, body } = representation(request, reply, job)
      return reply.code(202).type(type).send(body)
    },
  )

  app.get(
    '/bulk_api_jobs/:id',
    {
      config: { permission },
      schema: {
        tags,
        summary: 'Show a bulk job and its results',
        params: IdParams,
        response: {
          200: resourceResponse(BulkJob, 'The job, with a result per processed record', { 'Retry-After': jobHeaders['Retry-After'] }),
          304: emptyResponse('Not modified', { ETag: responseHeaders.ETag }),
          ...apiProblems(404),
        },
      },
    },
    async (request, reply) => {
      const job = await loadJob(db, request.accountId, request.params.id)
      if (!job) throw new NotFound()
      if (isUnfinished(job)) reply.header('Retry-After', String(POLL_AFTER_SECONDS))
      return sendResource(request, reply, job, jobLinks(job))
    },
  )

  app.get(
    '/bulk_api_jobs',
    {
      config: { permission },
      schema: {
        tags,
        summary: 'List bulk jobs (without their results: GET one for those)',
        querystring: ListQuerystring,
        response: { 200: listResponse(BulkJobSummary, 'A page of jobs, each without `results`'), ...apiProblems() },
      },
    },
    async (request, reply) =>
      answerList(request, reply, app.database, jobsQuery(db, request.accountId), {
        spec: listSpec,
        secret: cursorSecret,
        toResource: toJobSummary,
        linksOf: jobLinks,
      }),
  )
}
