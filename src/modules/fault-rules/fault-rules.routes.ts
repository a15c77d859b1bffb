// /api/v1/fault_rules: the codes an account tracks. Admins write; a rule faults still use cannot go (409).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.js'
import type { CursorSecret } from '../../http/cursor.js'
import { createOnce } from '../../http/idempotency.js'
import { ListQuerystring, type ListSpec } from '../../http/list-query.js'
import { NotFound, Problem, problemTypes, ValidationFailed } from '../../http/problem.js'
import {
  emptyResponse,
  listResponse,
  replayHeaders,
  resourceResponse,
  responseHeaders,
  sendCreated,
  sendResource,
  sendUpdated,
} from '../../http/representation.js'
import { accountList, answerList, loadForChange } from '../../http/resource.js'
import { apiProblems, IdempotencyHeaders, IdParams } from '../../http/schemas.js'
import { messages } from '../../http/validation.js'
import { deleteFaultRule, faultRulesQuery, findFaultRule, insertFaultRule, toFaultRule, updateFaultRule } from './fault-rules.repository.js'
import { CreateFaultRule, FaultRule, UpdateFaultRule } from './fault-rules.schemas.js'

const tags = ['fault rules']
const linksOf = (rule: FaultRule) => ({
  self: `/api/v1/fault_rules/${rule.id}`,
  faults: `/api/v1/faults?filter[fault_rule_id][eq]=${rule.id}`,
})

const listSpec: ListSpec = {
  idColumn: 'id',
  sorts: { code: { type: 'string' }, created_at: { type: 'datetime' }, updated_at: { type: 'datetime' } },
  filters: {
    code: { type: 'string', ops: ['eq', 'like', 'include'] },
    name: { type: 'string', ops: ['eq', 'like'] },
    priority_handling: { type: 'enum', values: ['off', 'ignore', 'critical'], ops: ['eq', 'include'] },
    created_at: { type: 'datetime', ops: ['lt', 'lte', 'gt', 'gte'] },
    updated_at: { type: 'datetime', ops: ['lt', 'lte', 'gt', 'gte'] },
  },
}

function codeTaken(error: unknown): never {
  if (isUniqueViolation(error)) throw new ValidationFailed({ code: [messages.taken] })
  throw error
}

export const faultRulesRoutes: FastifyPluginAsyncTypebox<{ cursorSecret: CursorSecret }> = async (app, { cursorSecret }) => {
  const { db, engine } = app.database
  const listRoute = { spec: listSpec, secret: cursorSecret, toResource: toFaultRule, linksOf: linksOf }
  const listOf = accountList((accountId: number) => faultRulesQuery(db, accountId))

  app.get(
    '/fault_rules',
    {
      config: { permission: 'fault_rules:read' },
      schema: {
        tags,
        summary: 'List fault rules',
        querystring: ListQuerystring,
        response: { 200: listResponse(FaultRule, 'A page of fault rules'), ...apiProblems() },
      },
    },
    async (request, reply) => {
      return answerList(request, reply, app.database, listOf(request.accountId), listRoute)
    },
  )

  app.post(
    '/fault_rules',
    {
      config: { permission: 'fault_rules:write', idempotent: true },
      schema: {
        tags,
        summary: 'Create a fault rule',
        body: CreateFaultRule,
        headers: IdempotencyHeaders,
        response: {
          201: resourceResponse(FaultRule, 'Created', { Location: responseHeaders.Location }),
          200: resourceResponse(FaultRule, 'Replayed: the same Idempotency-Key and payload were sent before', replayHeaders),
          ...apiProblems(409, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const rule = await createOnce(
        db,
        request,
        async (writer) => toFaultRule(await insertFaultRule(writer, request.accountId, request.body)),
        linksOf,
      ).catch(codeTaken)
      return sendCreated(request, reply, rule, linksOf(rule))
    },
  )

  app.get(
    '/fault_rules/:id',
    {
      config: { permission: 'fault_rules:read' },
      schema: {
        tags,
        summary: 'Show a fault rule',
        params: IdParams,
        response: {
          200: resourceResponse(FaultRule, 'The rule'),
          304: emptyResponse('Not modified', { ETag: responseHeaders.ETag }),
          ...apiProblems(404),
        },
      },
    },
    async (request, reply) => {
      const row = await findFaultRule(db, request.accountId, request.params.id)
      if (!row) throw new NotFound()
      const rule = toFaultRule(row)
      return sendResource(request, reply, rule, linksOf(rule))
    },
  )

  app.patch(
    '/fault_rules/:id',
    {
      config: { permission: 'fault_rules:write' },
      schema: {
        tags,
        summary: 'Update a fault rule',
        params: IdParams,
        body: UpdateFaultRule,
        response: {
          200: resourceResponse(FaultRule, 'Updated (Prefer: return=representation)', {
            'Preference-Applied': responseHeaders['Preference-Applied'],
          }),
          204: emptyResponse('Updated', { ETag: responseHeaders.ETag }),
          ...apiProblems(404, 409, 412, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const current = await loadForChange(
            request,
            faultRulesQuery(trx, request.accountId).where('id', '=', request.params.id),
            engine,
            toFaultRule,
          )
          return updateFaultRule(trx, request.accountId, current.id, request.body)
        })
        .catch(codeTaken)
      const rule = toFaultRule(row)
      return sendUpdated(request, reply, rule, linksOf(rule))
    },
  )

  app.delete(
    '/fault_rules/:id',
    {
      config: { permission: 'fault_rules:write' },
      schema: {
        tags,
        summary: 'Delete a fault rule no fault uses',
        params: IdParams,
        response: { 204: emptyResponse('Deleted'), ...apiProblems(404, 409, 412) },
      },
    },
    async (request, reply) => {
      await db
        .transaction()
        .execute(async (trx) => {
          const current = await loadForChange(
            request,
            faultRulesQuery(trx, request.accountId).where('id', '=', request.params.id),
            engine,
            toFaultRule,
          )
          await deleteFaultRule(trx, request.accountId, current.id)
        })
        .catch((error: unknown) => {
          if (!isForeignKeyViolation(error)) throw error
          throw new Problem(problemTypes.conflict, 'Faults still use this rule; delete or re-code them first.')
        })
      return reply.code(204).send()
    },
  )
}
