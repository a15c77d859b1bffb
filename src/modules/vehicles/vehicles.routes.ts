// /api/v1/vehicles: list, create, show, update (archive/restore), delete — scoped to the caller's account.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sql } from 'kysely'
import { isUniqueViolation } from '../../db/errors.js'
import type { CursorSecret } from '../../http/cursor.js'
import { createOnce } from '../../http/idempotency.js'
import { ListQuerystring, type ListSpec } from '../../http/list-query.js'
import { NotFound, ValidationFailed } from '../../http/problem.js'
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
import { deleteVehicle, findVehicle, insertVehicle, toVehicle, updateVehicle, vehiclesQuery } from './vehicles.repository.js'
import { CreateVehicle, UpdateVehicle, Vehicle } from './vehicles.schemas.js'

const tags = ['vehicles']
const linksOf = (vehicle: Vehicle) => ({
  self: `/api/v1/vehicles/${vehicle.id}`,
  faults: `/api/v1/faults?filter[vehicle_id][eq]=${vehicle.id}`,
})

const listSpec: ListSpec = {
  idColumn: 'id',
  sorts: { name: { type: 'string' }, created_at: { type: 'datetime' }, updated_at: { type: 'datetime' } },
  filters: {
    name: { type: 'string', ops: ['eq', 'like'] },
    vin: { type: 'string', ops: ['eq', 'like'] },
    license_plate: { type: 'string', ops: ['eq', 'like'] },
    external_id: { type: 'string', ops: ['eq', 'include'] },
    make: { type: 'string', ops: ['eq', 'like'] },
    model: { type: 'string', ops: ['eq', 'like'] },
    year: { type: 'integer', ops: ['eq', 'lt', 'lte', 'gt', 'gte'] },
    created_at: { type: 'datetime', ops: ['lt', 'lte', 'gt', 'gte'] },
    updated_at: { type: 'datetime', ops: ['lt', 'lte', 'gt', 'gte'] },
    // Archived vehicles leave lists unless asked for (CONTRACT §1).
    archived: {
      type: 'boolean',
      ops: ['eq'],
      default: { op: 'eq', value: 'false' },
      where: (_op, value) => (value === true ? sql`archived_at is not null` : sql`archived_at is null`),
    },
  },
}

/** A duplicate name is a validation error, whichever of two racing requests loses (the constraint decides). */
function nameTaken(error: unknown): never {
  if (isUniqueViolation(error)) throw new ValidationFailed({ name: [messages.taken] })
  throw error
}

export const vehiclesRoutes: FastifyPluginAsyncTypebox<{ cursorSecret: CursorSecret }> = async (app, { cursorSecret }) => {
  const { db, engine } = app.database
  const listRoute = { spec: listSpec, secret: cursorSecret, toResource: toVehicle, linksOf: linksOf }
  const listOf = accountList((accountId: number) => vehiclesQuery(db, accountId))

  app.get(
    '/vehicles',
    {
      config: { permission: 'vehicles:read' },
      schema: {
        tags,
        summary: 'List vehicles (archived ones only with filter[archived][eq]=true)',
        querystring: ListQuerystring,
        response: { 200: listResponse(Vehicle, 'A page of vehicles'), ...apiProblems() },
      },
    },
    async (request, reply) => {
      return answerList(request, reply, app.database, listOf(request.accountId), listRoute)
    },
  )

  app.post(
    '/vehicles',
    {
      config: { permission: 'vehicles:write', idempotent: true },
      schema: {
        tags,
        summary: 'Create a vehicle',
        body: CreateVehicle,
        headers: IdempotencyHeaders,
        response: {
          201: resourceResponse(Vehicle, 'Created', { Location: responseHeaders.Location }),
          200: resourceResponse(Vehicle, 'Replayed: the same Idempotency-Key and payload were sent before', replayHeaders),
          ...apiProblems(409, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const vehicle = await createOnce(
        db,
        request,
        async (writer) => toVehicle(await insertVehicle(writer, request.accountId, request.body)),
        linksOf,
      ).catch(nameTaken)
      return sendCreated(request, reply, vehicle, linksOf(vehicle))
    },
  )

  app.get(
    '/vehicles/:id',
    {
      config: { permission: 'vehicles:read' },
      schema: {
        tags,
        summary: 'Show a vehicle',
        params: IdParams,
        response: {
          200: resourceResponse(Vehicle, 'The vehicle'),
          304: emptyResponse('Not modified', { ETag: responseHeaders.ETag }),
          ...apiProblems(404),
        },
      },
    },
    async (request, reply) => {
      const row = await findVehicle(db, request.accountId, request.params.id)
      if (!row) throw new NotFound()
      const vehicle = toVehicle(row)
      return sendResource(request, reply, vehicle, linksOf(vehicle))
    },
  )

  app.patch(
    '/vehicles/:id',
    {
      config: { permission: 'vehicles:write' },
      schema: {
        tags,
        summary: 'Update a vehicle; {"archived": true} archives it, false restores it',
        params: IdParams,
        body: UpdateVehicle,
        response: {
          200: resourceResponse(Vehicle, 'Updated (Prefer: return=representation)', {
            'Preference-Applied': responseHeaders['Preference-Applied'],
          }),
          204: emptyResponse('Updated', { ETag: responseHeaders.ETag }),
          ...apiProblems(404, 409, 412, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const { archived, ...changes } = request.body
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const current = await loadForChange(
            request,
            vehiclesQuery(trx, request.accountId).where('id', '=', request.params.id),
            engine,
            toVehicle,
          )
          const archivedAt = archived === undefined ? undefined : archived ? (current.archived_at ?? new Date().toISOString()) : null
          return updateVehicle(trx, request.accountId, current.id, {
            ...changes,
            ...(archivedAt === undefined ? {} : { archived_at: archivedAt instanceof Date ? archivedAt.toISOString() : archivedAt }),
          })
        })
        .catch(nameTaken)
      const vehicle = toVehicle(row)
      return sendUpdated(request, reply, vehicle, linksOf(vehicle))
    },
  )

  app.delete(
    '/vehicles/:id',
    {
      config: { permission: 'vehicles:write' },
      schema: {
        tags,
        summary: 'Delete a vehicle and its faults',
        params: IdParams,
        response: { 204: emptyResponse('Deleted'), ...apiProblems(404, 412) },
      },
    },
    async (request, reply) => {
      await db.transaction().execute(async (trx) => {
        const current = await loadForChange(
          request,
          vehiclesQuery(trx, request.accountId).where('id', '=', request.params.id),
          engine,
          toVehicle,
        )
        await deleteVehicle(trx, request.accountId, current.id)
      })
      return reply.code(204).send()
    },
  )
}
