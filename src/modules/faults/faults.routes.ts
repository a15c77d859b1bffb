// /api/v1/faults: list, create (Create Fault), show, update, delete — scoped to the caller's account.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Transaction } from 'kysely'
import type { DB } from '../../db/schema.js'
import type { CursorSecret } from '../../http/cursor.js'
import { ListQuerystring, type ListSpec } from '../../http/list-query.js'
import { NotFound } from '../../http/problem.js'
import {
  emptyResponse,
  listResponse,
  replayHeaders,
  resourceResponse,
  responseHeaders,
  sendCreated,
  sendReplayed,
  sendResource,
  sendUpdated,
} from '../../http/representation.js'
import { accountList, answerList, loadForChange } from '../../http/resource.js'
import { apiProblems, IdempotencyHeaders, IdParams } from '../../http/schemas.js'
import { bodyFieldErrors } from '../../http/validation.js'
import { deleteFault, faultsQuery, findFault, toFault, updateFault } from './faults.repository.js'
import { CreateFault, Fault, UpdateFault } from './faults.schemas.js'
import { createFault, faultLinks } from './faults.service.js'
import { knownRules } from './known-rules.js'

const tags = ['faults']

const datetime = { type: 'datetime', ops: ['lt', 'lte', 'gt', 'gte'] } as const
const listSpec: ListSpec = {
  idColumn: 'faults.id',
  sorts: {
    last_occurred_at: { type: 'datetime', column: 'faults.last_occurred_at' },
    created_at: { type: 'datetime', column: 'faults.created_at' },
    updated_at: { type: 'datetime', column: 'faults.updated_at' },
  },
  filters: {
    status: { type: 'enum', values: ['open', 'resolved', 'ignored'], ops: ['eq', 'include'], column: 'faults.status' },
    vehicle_id: { type: 'integer', ops: ['eq', 'include'], column: 'faults.vehicle_id' },
    code: { type: 'string', ops: ['eq', 'include', 'like'], column: 'faults.code' },
    fault_rule_id: { type: 'integer', ops: ['eq', 'include'], column: 'faults.fault_rule_id' },
    external_id: { type: 'string', ops: ['eq', 'include'], column: 'faults.external_id' },
    name: { type: 'string', ops: ['eq', 'like'], column: 'faults.name' },
    last_occurred_at: { ...datetime, column: 'faults.last_occurred_at' },
    created_at: { ...datetime, column: 'faults.created_at' },
    updated_at: { ...datetime, column: 'faults.updated_at' },
  },
}

export const faultsRoutes: FastifyPluginAsyncTypebox<{ cursorSecret: CursorSecret }> = async (app, { cursorSecret }) => {
  const { db, engine, groupWrite } = app.database
  const writer = { db, groupWrite, rules: knownRules() }
  const listRoute = { spec: listSpec, secret: cursorSecret, toResource: toFault, linksOf: faultLinks }
  const listOf = accountList((accountId: number) => faultsQuery(db, accountId))
  /** The fault a PATCH or DELETE changes, locked (its row only, not its vehicle's), 404 or 412 as loadForChange says. */
  const loadFaultForChange = (trx: Transaction<DB>, request: FastifyRequest, id: number) =>
    loadForChange(request, faultsQuery(trx, request.accountId).where('faults.id', '=', id), engine, toFault, 'faults')

  app.get(
    '/faults',
    {
      config: { permission: 'faults:read' },
      schema: {
        tags,
        summary: 'List faults',
        querystring: ListQuerystring,
        response: { 200: listResponse(Fault, 'A page of faults'), ...apiProblems() },
      },
    },
    async (request, reply) => {
      return answerList(request, reply, app.database, listOf(request.accountId), listRoute)
    },
  )

  app.post(
    '/faults',
    {
      config: { permission: 'faults:write', idempotent: 'in-handler' },
      attachValidation: true,
      schema: {
        tags,
        summary: 'Create a Fault',
        description: 'The code must match a Fault Rule of the account. To create many Faults at once, use the Bulk API.',
        body: CreateFault,
        headers: IdempotencyHeaders,
        response: {
          201: resourceResponse(Fault, 'Created', { Location: responseHeaders.Location }),
          200: resourceResponse(Fault, 'Replayed: the same Idempotency-Key and payload were sent before', replayHeaders),
          ...apiProblems(409, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const outcome = await createFault(writer, request, request.body, bodyFieldErrors(request))
      if ('replayed' in outcome) return sendReplayed(request, reply, outcome.replayed.resource, outcome.replayed.links)
      return sendCreated(request, reply, outcome.created, faultLinks(outcome.created))
    },
  )

  app.get(
    '/faults/:id',
    {
      config: { permission: 'faults:read' },
      schema: {
        tags,
        summary: 'Show a Fault',
        params: IdParams,
        response: {
          200: resourceResponse(Fault, 'The fault'),
          304: emptyResponse('Not modified', { ETag: responseHeaders.ETag }),
          ...apiProblems(404),
        },
      },
    },
    async (request, reply) => {
      const row = await findFault(db, request.accountId, request.params.id)
      if (!row) throw new NotFound()
      const fault = toFault(row)
      return sendResource(request, reply, fault, faultLinks(fault))
    },
  )

  app.patch(
    '/faults/:id',
    {
      config: { permission: 'faults:write' },
      schema: {
        tags,
        summary: 'Update a Fault (e.g. resolve it)',
        params: IdParams,
        body: UpdateFault,
        response: {
          200: resourceResponse(Fault, 'Updated (Prefer: return=representation)', {
            'Preference-Applied': responseHeaders['Preference-Applied'],
          }),
          204: emptyResponse('Updated', { ETag: responseHeaders.ETag }),
          ...apiProblems(404, 412, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const { last_occurred_at: lastOccurredAt, ...changes } = request.body
      const fault = await db.transaction().execute(async (trx) => {
        const current = await loadFaultForChange(trx, request, request.params.id)
        const normalized = lastOccurredAt === undefined ? {} : { last_occurred_at: new Date(lastOccurredAt).toISOString() }
        const updated = await updateFault(trx, request.accountId, current, { ...changes, ...normalized })
        if (!updated) throw new NotFound()
        return toFault(updated)
      })
      return sendUpdated(request, reply, fault, faultLinks(fault))
    },
  )

  app.delete(
    '/faults/:id',
    {
      config: { permission: 'faults:write' },
      schema: { tags, summary: 'Delete a Fault', params: IdParams, response: { 204: emptyResponse('Deleted'), ...apiProblems(404, 412) } },
    },
    async (request, reply) => {
      await db.transaction().execute(async (trx) => {
        const current = await loadFaultForChange(trx, request, request.params.id)
        await deleteFault(trx, request.accountId, current.id)
      })
      return reply.code(204).send()
    },
  )
}
