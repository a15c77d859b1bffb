// Representations through test-only routes: HAL (CONTRACT §3), ETag/304/412 (§9), Prefer return and handling=strict.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { Generated, Selectable } from 'kysely'
import { type Static, Type } from 'typebox'
import { assertPreconditions } from '../../src/http/conditional.js'
import type { Links } from '../../src/http/hal.js'
import { ListQuerystring, parseListQuery } from '../../src/http/list-query.js'
import { paginate } from '../../src/http/pagination.js'
import { preferencesOf, preferReturn, preferStrict } from '../../src/http/prefer.js'
import { NotFound } from '../../src/http/problem.js'
import {
  emptyResponse,
  listResponse,
  resourceResponse,
  responseHeaders,
  sendCreated,
  sendList,
  sendResource,
  sendUpdated,
} from '../../src/http/representation.js'
import { IdParams, problemResponses } from '../../src/http/schemas.js'
import { strictHandling } from '../../src/http/strict-handling.js'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'

interface GadgetsTable {
  id: Generated<number>
  name: string
  count: number
  vehicle_id: number
  rule_id: number | null
  internal_note: string
}

const Gadget = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  count: Type.Integer(),
  vehicle_id: Type.Integer(),
  rule_id: Type.Union([Type.Integer(), Type.Null()]),
})
const GadgetCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    count: Type.Optional(Type.Integer({ minimum: 1 })),
    vehicle_id: Type.Integer({ minimum: 1 }),
    rule_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  },
  { additionalProperties: false },
)
const GadgetPatch = Type.Partial(GadgetCreate, { additionalProperties: false })

const toGadget = ({ internal_note: _internal, ...gadget }: Selectable<GadgetsTable>) => gadget
const linksOf = (gadget: { id: number; vehicle_id: number; rule_id: number | null }): Links => ({
  self: `/test/gadgets/${gadget.id}`,
  vehicle: `/api/v1/vehicles/${gadget.vehicle_id}`,
  fault_rule: gadget.rule_id === null ? null : `/api/v1/fault_rules/${gadget.rule_id}`,
})

async function gadgetRoutes(app: FastifyInstance): Promise<void> {
  const pg = app.database.engine === 'postgres'
  const db = app.database.db.withTables<{ gadgets: GadgetsTable }>()
  await db.schema
    .createTable('gadgets')
    .addColumn('id', pg ? 'bigint' : 'integer', (c) =>
      pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('vehicle_id', 'integer', (c) => c.notNull())
    .addColumn('rule_id', 'integer')
    .addColumn('internal_note', 'text', (c) => c.notNull())
    .execute()
  await app.register(strictHandling)

  const load = async (id: number) => {
    const row = await db.selectFrom('gadgets').selectAll().where('id', '=', id).executeTakeFirst()
    if (!row) throw new NotFound()
    return row
  }
  const one = { params: IdParams }

  app.get(
    '/test/gadgets/:id',
    {
      schema: {
        ...one,
        response: {
          200: resourceResponse(Gadget, 'A gadget'),
          304: emptyResponse('Not modified', { ETag: responseHeaders.ETag }),
          ...problemResponses(404, 412),
        },
      },
    },
    async (request, reply) => {
      const gadget = toGadget(await load((request.params as { id: number }).id))
      return sendResource(request, reply, gadget, linksOf(gadget))
    },
  )
  // Hands the serializer a property the schema does not declare: both media types must drop it.
  app.get('/test/leaky/:id', { schema: { ...one, response: { 200: resourceResponse(Gadget, 'A gadget') } } }, async (request, reply) => {
    const row = await load((request.params as { id: number }).id)
    return sendResource(request, reply, row, linksOf(row))
  })
  app.get(
    '/test/gadgets',
    { schema: { querystring: ListQuerystring, response: { 200: listResponse(Gadget, 'Gadgets') } } },
    async (request, reply) => {
      const list = parseListQuery(request, { idColumn: 'id' }, { secret: 'representation-test' })
      const page = await paginate(app.database, db.selectFrom('gadgets').selectAll(), list)
      return sendList(request, reply, { ...page, records: page.records.map(toGadget) }, linksOf)
    },
  )
  app.post(
    '/test/gadgets',
    {
      schema: {
        body: GadgetCreate,
        response: { 201: resourceResponse(Gadget, 'Created', { Location: responseHeaders.Location }), ...problemResponses(422) },
      },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof GadgetCreate>
      const { id } = await db
        .insertInto('gadgets')
        .values({ name: body.name, count: body.count ?? 1, vehicle_id: body.vehicle_id, rule_id: body.rule_id ?? null, internal_note: 'x' })
        .returning('id')
        .executeTakeFirstOrThrow()
      const gadget = toGadget(await load(Number(id)))
      return sendCreated(request, reply, gadget, linksOf(gadget))
    },
  )
  app.patch(
    '/test/gadgets/:id',
    {
      schema: {
        ...one,
        body: GadgetPatch,
        response: { 200: resourceResponse(Gadget, 'Updated'), 204: emptyResponse('Updated'), ...problemResponses(404, 412, 422) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number }
      assertPreconditions(request, toGadget(await load(id)))
      await db
        .updateTable('gadgets')
        .set(request.body as Static<typeof GadgetPatch>)
        .where('id', '=', id)
        .execute()
      const gadget = toGadget(await load(id))
      return sendUpdated(request, reply, gadget, linksOf(gadget))
    },
  )
  app.delete('/test/gadgets/:id', { schema: one }, async (request, reply) => {
    const { id } = request.params as { id: number }
    assertPreconditions(request, toGadget(await load(id)))
    await db.deleteFrom('gadgets').where('id', '=', id).execute()
    return reply.code(204).send()
  })
  app.get('/test/prefer', async (request) => ({
    parsed: Object.fromEntries(preferencesOf(request)),
    return: preferReturn(request) ?? null,
    strict: preferStrict(request),
  }))
}

describe(`representations: HAL, conditional requests, Prefer (${engine})`, () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ extend: gadgetRoutes })
  })
  after(() => t.close())

  const hal = { accept: 'application/hal+json' }
  async function create(payload: Record<string, unknown> = { name: 'widget', vehicle_id: 7 }): Promise<Record<string, unknown>> {
    const response = await t.app.inject({ method: 'POST', url: '/test/gadgets', payload })
    assert.equal(response.statusCode, 201, response.body)
    return response.json()
  }

  describe('HAL', () => {
    it('renders one resource with _links to itself and related resources, as application/hal+json', async () => {
      const gadget = await create({ name: 'with rule', vehicle_id: 7, rule_id: 3 })
      const response = await t.app.inject({ url: `/test/gadgets/${gadget.id}`, headers: hal })
      assert.equal(response.statusCode, 200)
      assert.match(String(response.headers['content-type']), /^application\/hal\+json/)
      assert.match(String(response.headers.vary), /Accept/)
      assert.deepEqual(response.json(), {
        ...gadget,
        _links: {
          self: { href: `/test/gadgets/${gadget.id}` },
          vehicle: { href: '/api/v1/vehicles/7' },
          fault_rule: { href: '/api/v1/fault_rules/3' },
        },
      })
    })

    it('leaves out a link whose target is absent, and answers plain JSON without _links by default', async () => {
      const gadget = await create()
      const halBody = (await t.app.inject({ url: `/test/gadgets/${gadget.id}`, headers: hal })).json()
      assert.deepEqual(Object.keys(halBody._links), ['self', 'vehicle'])
      const plain = await t.app.inject({ url: `/test/gadgets/${gadget.id}` })
      assert.match(String(plain.headers['content-type']), /^application\/json/)
      assert.deepEqual(plain.json(), gadget)
    })

    it('serializes each media type with its own schema, dropping undeclared properties', async () => {
      const gadget = await create()
      const plain = (await t.app.inject({ url: `/test/leaky/${gadget.id}` })).json()
      assert.deepEqual(plain, gadget)
      const halBody = (await t.app.inject({ url: `/test/leaky/${gadget.id}`, headers: hal })).json()
      assert.equal(halBody.internal_note, undefined)
      assert.equal(halBody._links.self.href, `/test/gadgets/${gadget.id}`)
    })

    it('renders a list as _embedded.records with self and next links beside the envelope', async () => {
      for (let index = 0; index < 3; index++) await create({ name: `listed ${index}`, vehicle_id: 9 })
      const url = '/test/gadgets?per_page=2'
      const response = await t.app.inject({ url, headers: hal })
      assert.equal(response.statusCode, 200)
      assert.match(String(response.headers['content-type']), /^application\/hal\+json/)
      const body = response.json()
      assert.deepEqual(Object.keys(body), [
        '_links',
        '_embedded',
        'start_cursor',
        'next_cursor',
        'per_page',
        'estimated_remaining_count',
        'filtered_by',
        'sorted_by',
      ])
      const next = `/test/gadgets?per_page=2&start_cursor=${encodeURIComponent(body.next_cursor)}`
      assert.deepEqual(body._links, { self: { href: url }, next: { href: next } })
      assert.equal(response.headers.link, `<${next}>; rel="next"`)
      assert.equal(body._embedded.records.length, 2)
      for (const record of body._embedded.records) {
        assert.equal(record._links.self.href, `/test/gadgets/${record.id}`)
        assert.equal(record._links.vehicle.href, '/api/v1/vehicles/9')
        assert.equal(record.internal_note, undefined)
      }
      const plain = (await t.app.inject({ url })).json()
      assert.deepEqual(
        body._embedded.records.map(({ _links, ...record }: Record<string, unknown>) => record),
        plain.records,
      )
      const following = (await t.app.inject({ url: next, headers: hal })).json()
      assert.equal(following.start_cursor, body.next_cursor)
      assert.equal(following._links.self.href, next)
    })

    it('leaves out _links.next on the last page', async () => {
      const body = (await t.app.inject({ url: '/test/gadgets?per_page=100', headers: hal })).json()
      assert.equal(body.next_cursor, null)
      assert.deepEqual(Object.keys(body._links), ['self'])
    })

    it('declares both media types in OpenAPI', async () => {
      const document = (await t.app.inject({ url: '/openapi.json' })).json()
      const responses = document.paths['/test/gadgets/{id}'].get.responses
      assert.ok(responses['200'].content['application/hal+json'].schema.properties._links)
      assert.ok(responses['200'].content['application/json'].schema.properties.id)
      assert.ok(responses['200'].headers.ETag)
      assert.ok(responses['304'].headers.ETag)
    })
  })

  describe('conditional GET', () => {
    it('gives each representation its own strong ETag, stable while the resource is unchanged', async () => {
      const gadget = await create()
      const url = `/test/gadgets/${gadget.id}`
      const first = await t.app.inject({ url })
      const again = await t.app.inject({ url })
      const halTag = (await t.app.inject({ url, headers: hal })).headers.etag
      assert.match(String(first.headers.etag), /^"[A-Za-z0-9_-]+"$/)
      assert.equal(again.headers.etag, first.headers.etag)
      assert.notEqual(halTag, first.headers.etag)
    })

    it('answers 304 with the ETag and Vary, without a body, when If-None-Match names the representation', async () => {
      const gadget = await create()
      const url = `/test/gadgets/${gadget.id}`
      const etag = String((await t.app.inject({ url })).headers.etag)
      for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        for (const method of ['GET', 'HEAD'] as const) {
          const response = await t.app.inject({ method, url, headers: { 'if-none-match': ifNoneMatch } })
          assert.equal(response.statusCode, 304, `${method} ${ifNoneMatch}`)
          assert.equal(response.headers.etag, etag)
          assert.match(String(response.headers.vary), /Accept/)
          assert.equal(response.body, '')
          assert.equal(response.headers['content-type'], undefined)
        }
      }
    })

    it('answers 200 when If-None-Match names something else', async () => {
      const gadget = await create()
      const url = `/test/gadgets/${gadget.id}`
      const etag = String((await t.app.inject({ url })).headers.etag)
      const unquoted = etag.slice(1, -1)
      for (const [ifNoneMatch, headers] of [
        ['"other"', {}],
        [unquoted, {}],
        [etag, hal],
      ] as const) {
        const response = await t.app.inject({ url, headers: { ...headers, 'if-none-match': ifNoneMatch } })
        assert.equal(response.statusCode, 200, ifNoneMatch)
        assert.equal(response.json().id, gadget.id)
      }
    })

    it('answers 412 to a GET whose If-Match does not match, and 404 before any precondition', async () => {
      const gadget = await create()
      expectProblem(await t.app.inject({ url: `/test/gadgets/${gadget.id}`, headers: { 'if-match': '"stale"' } }), 412)
      expectProblem(await t.app.inject({ url: '/test/gadgets/999999', headers: { 'if-none-match': '*', 'if-match': '"x"' } }), 404)
    })
  })

  describe('If-Match on PATCH and DELETE', () => {
    const patch = (id: unknown, payload: object, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'PATCH', url: `/test/gadgets/${id}`, payload, headers })

    it('applies a PATCH whose If-Match names the current state (either representation, or *) and returns the new ETag', async () => {
      const gadget = await create()
      const url = `/test/gadgets/${gadget.id}`
      const etag = String((await t.app.inject({ url })).headers.etag)
      const updated = await patch(gadget.id, { count: 5 }, { 'if-match': etag })
      assert.equal(updated.statusCode, 204, updated.body)
      const newTag = updated.headers.etag
      assert.notEqual(newTag, etag)
      assert.equal((await t.app.inject({ url })).headers.etag, newTag, 'the 204 carries the ETag a GET gives')
      const halTag = String((await t.app.inject({ url, headers: hal })).headers.etag)
      assert.equal((await patch(gadget.id, { count: 6 }, { 'if-match': `"nope", ${halTag}` })).statusCode, 204)
      assert.equal((await patch(gadget.id, { count: 7 }, { 'if-match': '*' })).statusCode, 204)
    })

    it('answers 412 when If-Match is stale, weak or malformed, and leaves the resource alone', async () => {
      const gadget = await create()
      const url = `/test/gadgets/${gadget.id}`
      const etag = String((await t.app.inject({ url })).headers.etag)
      for (const ifMatch of ['"stale"', `W/${etag}`, etag.slice(1, -1), '']) {
        const body = expectProblem(await patch(gadget.id, { count: 9 }, { 'if-match': ifMatch }), 412)
        assert.equal(body.title, 'Precondition Failed')
      }
      expectProblem(await patch(gadget.id, { count: 9 }, { 'if-none-match': '*' }), 412)
      assert.equal((await t.app.inject({ url })).json().count, 1)
    })

    it('lets a 404 and a 422 win over a failed precondition', async () => {
      const gadget = await create()
      expectProblem(await patch(999999, { count: 2 }, { 'if-match': '"stale"' }), 404)
      const invalid = expectProblem(await patch(gadget.id, { count: 0 }, { 'if-match': '"stale"' }), 422, '/problems/validation-error')
      assert.deepEqual(invalid.errors, { count: ['must be greater than or equal to 1'] })
    })

    it('guards DELETE the same way', async () => {
      const gadget = await create()
      const url = `/test/gadgets/${gadget.id}`
      const etag = String((await t.app.inject({ url })).headers.etag)
      expectProblem(await t.app.inject({ method: 'DELETE', url, headers: { 'if-match': '"stale"' } }), 412)
      assert.equal((await t.app.inject({ method: 'DELETE', url, headers: { 'if-match': etag } })).statusCode, 204)
      expectProblem(await t.app.inject({ method: 'DELETE', url, headers: { 'if-match': etag } }), 404)
    })
  })

  describe('Prefer', () => {
    const prefer = async (value: string) =>
      (await t.app.inject({ url: '/test/prefer', headers: { prefer: value } })).json() as {
        parsed: Record<string, { value?: string; parameters: Record<string, string> }>
        return: string | null
        strict: boolean
      }

    it('parses several preferences with case-insensitive names, parameters and quoted commas', async () => {
      const result = await prefer('respond-async, RETURN=representation; Foo="a,b;c", wait=10, handling=strict')
      assert.deepEqual(result.parsed, {
        'respond-async': { parameters: {} },
        return: { value: 'representation', parameters: { foo: 'a,b;c' } },
        wait: { value: '10', parameters: {} },
        handling: { value: 'strict', parameters: {} },
      })
      assert.equal(result.return, 'representation')
      assert.equal(result.strict, true)
    })

    it('takes the first of a repeated preference, and ignores values it does not know (values are case-sensitive)', async () => {
      assert.equal((await prefer('return=minimal, return=representation')).return, 'minimal')
      assert.equal((await prefer('return=Representation')).return, null)
      assert.equal((await prefer('return=""')).return, null)
      assert.equal((await prefer('handling=lenient')).strict, false)
      assert.equal((await prefer('')).strict, false)
    })

    it('answers a PATCH with 204 by default and 200 with the body for return=representation, echoing only what was applied', async () => {
      const gadget = await create()
      const url = `/test/gadgets/${gadget.id}`
      const plain = await t.app.inject({ method: 'PATCH', url, payload: { count: 2 } })
      assert.equal(plain.statusCode, 204)
      assert.equal(plain.headers['preference-applied'], undefined)
      assert.match(String(plain.headers.vary), /Prefer/)
      const full = await t.app.inject({ method: 'PATCH', url, payload: { count: 3 }, headers: { prefer: 'return=representation', ...hal } })
      assert.equal(full.statusCode, 200)
      assert.equal(full.headers['preference-applied'], 'return=representation')
      assert.match(String(full.headers.vary), /Accept, Prefer/)
      assert.match(String(full.headers['content-type']), /^application\/hal\+json/)
      assert.equal(full.json().count, 3)
      assert.equal(full.json()._links.self.href, url)
      const minimal = await t.app.inject({ method: 'PATCH', url, payload: { count: 4 }, headers: { prefer: 'return=minimal' } })
      assert.equal(minimal.statusCode, 204)
      assert.equal(minimal.headers['preference-applied'], 'return=minimal')
      const unknown = await t.app.inject({ method: 'PATCH', url, payload: { count: 5 }, headers: { prefer: 'return=everything' } })
      assert.equal(unknown.statusCode, 204)
      assert.equal(unknown.headers['preference-applied'], undefined)
    })

    it('answers a POST with 201, Location and the body, or no body for return=minimal', async () => {
      const full = await t.app.inject({ method: 'POST', url: '/test/gadgets', payload: { name: 'n', vehicle_id: 1 } })
      assert.equal(full.statusCode, 201)
      assert.equal(full.headers.location, `/test/gadgets/${full.json().id}`)
      assert.match(String(full.headers.etag), /^"/)
      const minimal = await t.app.inject({
        method: 'POST',
        url: '/test/gadgets',
        payload: { name: 'n', vehicle_id: 1 },
        headers: { prefer: 'return=minimal' },
      })
      assert.equal(minimal.statusCode, 201)
      assert.equal(minimal.body, '')
      assert.equal(minimal.headers['preference-applied'], 'return=minimal')
      assert.match(String(minimal.headers.location), /^\/test\/gadgets\/\d+$/)
      const created = await t.app.inject({ url: String(minimal.headers.location) })
      assert.equal(created.headers.etag, minimal.headers.etag)
    })
  })

  describe('Prefer: handling=strict', () => {
    const post = (payload: object, prefer?: string) =>
      t.app.inject({ method: 'POST', url: '/test/gadgets', payload, headers: prefer ? { prefer } : {} })

    it('ignores unknown attributes by default', async () => {
      const response = await post({ name: 'lenient', vehicle_id: 1, colour: 'red' })
      assert.equal(response.statusCode, 201)
      assert.equal(response.json().colour, undefined)
      assert.equal((await post({ name: 'lenient', vehicle_id: 1, colour: 'red' }, 'handling=lenient')).statusCode, 201)
    })

    it('answers unknown attributes with 422, together with every other invalid field', async () => {
      const only = expectProblem(
        await post({ name: 'strict', vehicle_id: 1, colour: 'red', id: 5 }, 'handling=strict'),
        422,
        '/problems/validation-error',
      )
      assert.deepEqual(only.errors, { colour: ['is not a known attribute'], id: ['is not a known attribute'] })
      assert.equal(only.detail, '2 fields are invalid')
      const mixed = await post({ count: 0, vehicle_id: 1, colour: 'red' }, 'return=minimal, handling=strict')
      const body = expectProblem(mixed, 422, '/problems/validation-error')
      assert.deepEqual(body.errors, {
        name: ["can't be blank"],
        count: ['must be greater than or equal to 1'],
        colour: ['is not a known attribute'],
      })
      assert.equal(mixed.headers['preference-applied'], 'handling=strict')
    })

    it('accepts a strict request without unknown attributes, saying the preference was applied', async () => {
      const response = await post({ name: 'strict', vehicle_id: 1 }, 'handling=strict')
      assert.equal(response.statusCode, 201)
      assert.equal(response.headers['preference-applied'], 'handling=strict')
    })

    it('still answers a strict request whose body is not an object as malformed', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/test/gadgets',
        payload: '[1]',
        headers: { 'content-type': 'application/json', prefer: 'handling=strict' },
      })
      expectProblem(response, 400, '/problems/malformed-request')
    })
  })
})
