// The caller (/users/me, /accounts) and the members of the account (/users): admins add, re-role and remove.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { isUniqueViolation } from '../../db/errors.js'
import { assertPreconditions } from '../../http/conditional.js'
import type { CursorSecret } from '../../http/cursor.js'
import { completeIdempotency } from '../../http/idempotency.js'
import { ListQuerystring } from '../../http/list-query.js'
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
import { answerList } from '../../http/resource.js'
import { apiProblems, IdempotencyHeaders, IdParams } from '../../http/schemas.js'
import { messages } from '../../http/validation.js'
import { accountLinks, accountsList, membersList, userLinks } from './identity.lists.js'
import { Account, CreateUser, UpdateUser, User } from './identity.schemas.js'
import {
  accountsOfUserQuery,
  addMembership,
  countAdmins,
  findMember,
  findOrCreateUser,
  findUser,
  lockAccount,
  membersQuery,
  removeMembership,
  setRole,
  toUser,
} from './members.repository.js'

const tags = ['users']
const notModified = emptyResponse('Not modified', { ETag: responseHeaders.ETag })

export const usersRoutes: FastifyPluginAsyncTypebox<{ cursorSecret: CursorSecret }> = async (app, { cursorSecret: secret }) => {
  const { db, engine } = app.database

  app.get(
    '/accounts',
    {
      config: { permission: 'user' },
      schema: {
        tags: ['accounts'],
        summary: "The caller's accounts, with the role in each (needs only the API key); a key bound to an account lists only it",
        querystring: ListQuerystring,
        response: { 200: listResponse(Account, 'A page of accounts'), ...apiProblems() },
      },
    },
    async (request, reply) => {
      const userId = request.principal?.userId ?? 0
      const bound = request.principal?.boundAccountId ?? null
      return answerList(request, reply, app.database, accountsOfUserQuery(db, userId, bound), {
        spec: accountsList,
        secret,
        toResource: (account) => account,
        linksOf: accountLinks,
        scope: () => `user:${userId}:${bound ?? 'all'}`,
      })
    },
  )

  app.get(
    '/users',
    {
      config: { permission: 'member' },
      schema: {
        tags,
        summary: 'The members of the account, with their roles',
        querystring: ListQuerystring,
        response: { 200: listResponse(User, 'A page of members'), ...apiProblems() },
      },
    },
    async (request, reply) =>
      answerList(request, reply, app.database, membersQuery(db, request.accountId), {
        spec: membersList,
        secret,
        toResource: toUser,
        linksOf: userLinks,
      }),
  )

  app.get(
    '/users/me',
    {
      config: { permission: 'user' },
      schema: {
        tags,
        summary: 'The user the API key belongs to',
        response: { 200: resourceResponse(User, 'The caller'), 304: notModified, ...apiProblems() },
      },
    },
    async (request, reply) => {
      const userId = request.principal?.userId ?? 0
      // In an account, the caller as that account sees them; without one, as they were created, except that
      // a key bound to an account sees the caller as that account does (what they were created with may
      // have been written by another account).
      const accountId = request.principal?.accountId ?? request.principal?.boundAccountId ?? null
      const user = accountId === null ? await findUser(db, userId) : await findMember(db, accountId, userId)
      if (!user) throw new NotFound()
      return sendResource(request, reply, toUser({ ...user, role: request.principal?.role ?? null }), { self: '/api/v1/users/me' })
    },
  )

  app.get(
    '/users/:id',
    {
      config: { permission: 'member' },
      schema: {
        tags,
        summary: 'A member of the account',
        params: IdParams,
        response: { 200: resourceResponse(User, 'The member'), 304: notModified, ...apiProblems(404) },
      },
    },
    async (request, reply) => {
      const member = await findMember(db, request.accountId, request.params.id)
      if (!member) throw new NotFound()
      const user = toUser(member)
      return sendResource(request, reply, user, userLinks(user))
    },
  )

  app.post(
    '/users',
    {
      config: { permission: 'admin', idempotent: true, changesCredentials: true },
      schema: {
        tags,
        summary: 'Add a member (the user is created if new)',
        body: CreateUser,
        headers: IdempotencyHeaders,
        response: {
          201: resourceResponse(User, 'Added', { Location: responseHeaders.Location }),
          200: resourceResponse(User, 'Replayed: the same Idempotency-Key and payload were sent before', replayHeaders),
          ...apiProblems(409, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const { accountId } = request
      const member = await db.transaction().execute(async (trx) => {
        const userId = await findOrCreateUser(trx, request.body)
        try {
          await addMembership(trx, accountId, userId, request.body)
        } catch (error) {
          if (isUniqueViolation(error)) throw new ValidationFailed({ email: [messages.taken] })
          throw error
        }
        const added = await findMember(trx, accountId, userId)
        if (!added) throw new NotFound()
        const created = toUser(added)
        await completeIdempotency(trx, request, { location: userLinks(created).self, resource: created, links: userLinks(created) })
        return created
      })
      return sendCreated(request, reply, member, userLinks(member))
    },
  )

  app.patch(
    '/users/:id',
    {
      config: { permission: 'admin', changesCredentials: true },
      schema: {
        tags,
        summary: "Change a member's role",
        params: IdParams,
        body: UpdateUser,
        response: {
          200: resourceResponse(User, 'Updated (Prefer: return=representation)', {
            'Preference-Applied': responseHeaders['Preference-Applied'],
          }),
          204: emptyResponse('Updated', { ETag: responseHeaders.ETag }),
          ...apiProblems(404, 409, 412, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const user = await changeMembership(request, request.params.id, request.body.role)
      return sendUpdated(request, reply, user, userLinks(user))
    },
  )

  app.delete(
    '/users/:id',
    {
      config: { permission: 'admin', changesCredentials: true },
      schema: {
        tags,
        summary: 'Remove a member from the account',
        params: IdParams,
        response: { 204: emptyResponse('Removed'), ...apiProblems(404, 409, 412) },
      },
    },
    async (request, reply) => {
      await changeMembership(request, request.params.id, null)
      return reply.code(204).send()
    },
  )

  /**
   * Re-roles (or, with null, removes) a member, honouring If-Match; the account keeps at least one
   * admin. Returns the member as it is afterwards.
   */
  async function changeMembership(request: FastifyRequest, userId: number, role: User['role']): Promise<User> {
    const { accountId } = request
    return db.transaction().execute(async (trx) => {
      await lockAccount(trx, accountId, engine)
      const member = await findMember(trx, accountId, userId)
      if (!member) throw new NotFound()
      assertPreconditions(request, toUser(member))
      if (member.role === 'admin' && role !== 'admin' && (await countAdmins(trx, accountId)) === 1) {
        throw new Problem(problemTypes.conflict, 'The account must keep at least one admin: make another member admin first.')
      }
      if (role === null) await removeMembership(trx, accountId, userId)
      else await setRole(trx, accountId, userId, role)
      return toUser({ ...member, role: role ?? member.role })
    })
  }
}
