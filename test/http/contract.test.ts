// The domain-free HTTP contract (CONTRACT §3, §4, §11): problems, 404/405/501, OPTIONS, HEAD, media types.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'

const Item = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    count: Type.Optional(Type.Integer({ minimum: 1 })),
    status: Type.Optional(Type.Enum(['open', 'resolved', 'ignored'])),
    at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
)

/** Test-only routes: a resource with POST/GET/PATCH, a failing route, a route with a query schema. */
function testRoutes(app: FastifyInstance) {
  app.post('/test/items', { schema: { body: Item } }, async (request, reply) =>
    reply
      .code(201)
      .header('Location', '/test/items/1')
      .send({ id: 1, ...(request.body as object) }),
  )
  app.get('/test/items', async () => ({ records: [] }))
  app.patch('/test/items/:id', { schema: { body: Type.Partial(Item) } }, async (_request, reply) => reply.code(204).send())
  app.get('/test/boom', async () => {
    throw new Error('relation "secret_table" does not exist at /srv/app/src/db.ts:42')
  })
  app.get(
    '/test/query',
    { schema: { querystring: Type.Object({ per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }) } },
    async () => ({ ok: true }),
  )
}

describe(`HTTP contract core (${engine})`, () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ extend: testRoutes })
  })
  after(() => t.close())

  describe('404, 405, 501, OPTIONS, HEAD', () => {
    it('answers an unknown route with a 404 problem', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' })
      const body = expectProblem(response, 404)
      assert.equal(body.detail, 'No endpoint matches this path.')
    })

    it('answers a known path with a method it lacks with 405 and Allow from the registered routes', async () => {
      const response = await t.app.inject({ method: 'PATCH', url: '/test/items', payload: {} })
      expectProblem(response, 405)
      assert.equal(response.headers.allow, 'GET, HEAD, POST, OPTIONS')
      const item = await t.app.inject({ method: 'POST', url: '/test/items/7', payload: {} })
      expectProblem(item, 405)
      assert.equal(item.headers.allow, 'PATCH, OPTIONS')
    })

    it('answers a method no route has with 501', async () => {
      const response = await t.app.inject({ method: 'PUT', url: '/test/items' })
      expectProblem(response, 501)
    })

    it('answers OPTIONS with 204 and Allow, and 404 for an unknown path', async () => {
      const response = await t.app.inject({ method: 'OPTIONS', url: '/healthz' })
      assert.equal(response.statusCode, 204)
      assert.equal(response.headers.allow, 'GET, HEAD, OPTIONS')
      assert.equal(response.body, '')
      expectProblem(await t.app.inject({ method: 'OPTIONS', url: '/nope' }), 404)
    })

    it('answers HEAD wherever GET works, without a body', async () => {
      const response = await t.app.inject({ method: 'HEAD', url: '/healthz' })
      assert.equal(response.statusCode, 200)
      assert.equal(response.body, '')
      assert.match(String(response.headers['content-type']), /application\/json/)
    })
  })

  describe('every response', () => {
    it('echoes a sane X-Request-Id and replaces an insane one', async () => {
      const echoed = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123.DEF:9' } })
      assert.equal(echoed.headers['x-request-id'], 'abc-123.DEF:9')
      const replaced = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\u0000<script>' } })
      assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/)
      const generated = await t.app.inject({ url: '/healthz' })
      assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    })

    it('carries nosniff and X-Api-Version, on success and on problems', async () => {
      for (const url of ['/healthz', '/nope']) {
        const response = await t.app.inject({ url })
        assert.equal(response.headers['x-content-type-options'], 'nosniff')
        assert.match(String(response.headers['x-api-version']), /^\d{4}-\d{2}-\d{2}$/)
      }
    })

    it('puts the request id in a problem instance', async () => {
      const response = await t.app.inject({ url: '/nope', headers: { 'x-request-id': 'trace-42' } })
      const body = expectProblem(response, 404)
      assert.equal(body.instance, 'urn:fleet-faults:request:trace-42')
    })
  })

  describe('content negotiation', () => {
    it('answers JSON by default with Vary: Accept', async () => {
      const response = await t.app.inject({ url: '/healthz' })
      assert.match(String(response.headers['content-type']), /^application\/json/)
      assert.match(String(response.headers.vary), /Accept/)
    })

    it('accepts application/hal+json and wildcards', async () => {
      for (const accept of ['application/hal+json', 'application/*', '*/*;q=0.5', 'text/html, application/json;q=0.1']) {
        const response = await t.app.inject({ url: '/healthz', headers: { accept } })
        assert.equal(response.statusCode, 200, accept)
      }
    })

    it('answers 406 when Accept allows neither JSON form', async () => {
      for (const accept of ['text/html', 'application/xml', 'application/json;q=0']) {
        const response = await t.app.inject({ url: '/healthz', headers: { accept } })
        expectProblem(response, 406)
      }
    })
  })

  describe('request bodies', () => {
    it('answers malformed JSON with 400', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/test/items',
        headers: { 'content-type': 'application/json' },
        payload: '{"name": ',
      })
      const body = expectProblem(response, 400, '/problems/malformed-request')
      assert.equal(body.title, 'Malformed request')
    })

    it('answers an empty JSON body with 400', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/test/items',
        headers: { 'content-type': 'application/json' },
        payload: '',
      })
      expectProblem(response, 400, '/problems/malformed-request')
    })

    it('answers a body that is not an object with 400', async () => {
      for (const payload of ['[1,2]', '"text"', '42', 'null']) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/test/items',
          headers: { 'content-type': 'application/json' },
          payload,
        })
        const body = expectProblem(response, 400, '/problems/malformed-request')
        assert.equal(body.detail, 'The request body must be a JSON object.', payload)
      }
    })

    it('answers an unsupported Content-Type with 415 and Accept-Post/Accept-Patch', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/test/items', headers: { 'content-type': 'text/plain' }, payload: 'hi' })
      expectProblem(response, 415)
      assert.equal(response.headers['accept-post'], 'application/json')
      assert.equal(response.headers['accept-patch'], 'application/json, application/merge-patch+json')
      const xml = await t.app.inject({
        method: 'POST',
        url: '/test/items',
        headers: { 'content-type': 'application/xml' },
        payload: '<a/>',
      })
      expectProblem(xml, 415)
    })

    it('reads merge-patch+json on PATCH only', async () => {
      const patch = await t.app.inject({
        method: 'PATCH',
        url: '/test/items/1',
        headers: { 'content-type': 'application/merge-patch+json' },
        payload: '{"name":"x"}',
      })
      assert.equal(patch.statusCode, 204)
      const post = await t.app.inject({
        method: 'POST',
        url: '/test/items',
        headers: { 'content-type': 'application/merge-patch+json' },
        payload: '{"name":"x"}',
      })
      expectProblem(post, 415)
    })

    it('answers a body over 1 MiB with 413', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/test/items',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024) }),
      })
      expectProblem(response, 413)
    })

    it('reports every invalid field at once as a 422 errors hash', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/test/items',
        payload: { count: 0, status: 'broken', at: 'yesterday' },
      })
      const body = expectProblem(response, 422, '/problems/validation-error')
      assert.equal(body.title, 'Validation failed')
      assert.deepEqual(body.errors, {
        name: ["can't be blank"],
        count: ['must be greater than or equal to 1'],
        status: ['is not a valid value. Please specify one of the predefined values for this field.'],
        at: ['is not a valid date-time'],
      })
      assert.equal(body.detail, '4 fields are invalid')
    })

    it('words length, type and blank errors the Rails way', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/test/items', payload: { name: 'x'.repeat(256), count: 'three' } })
      const body = expectProblem(response, 422, '/problems/validation-error')
      assert.deepEqual(body.errors, { name: ['is too long (maximum is 255 characters)'], count: ['is not a number'] })
      const blank = await t.app.inject({ method: 'POST', url: '/test/items', payload: { name: '', count: 1.5 } })
      assert.deepEqual(expectProblem(blank, 422, '/problems/validation-error').errors, {
        name: ["can't be blank"],
        count: ['must be an integer'],
      })
      const nulls = await t.app.inject({ method: 'POST', url: '/test/items', payload: { name: null, status: null } })
      assert.deepEqual(expectProblem(nulls, 422, '/problems/validation-error').errors, {
        name: ["can't be blank"],
        status: ["can't be blank"],
      })
    })

    it('ignores unknown fields by default', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/test/items', payload: { name: 'ok', id: 99, extra: true } })
      assert.equal(response.statusCode, 201)
      assert.deepEqual(response.json(), { id: 1, name: 'ok' })
    })

    it('answers a bad query parameter with 400 naming it', async () => {
      const response = await t.app.inject({ url: '/test/query?per_page=500' })
      const body = expectProblem(response, 400, '/problems/invalid-parameter')
      assert.equal(body.parameter, 'per_page')
      assert.match(String(body.detail), /per_page/)
    })
  })

  describe('unexpected failures', () => {
    it('answers 500 without anything internal, quoting the request id', async () => {
      const response = await t.app.inject({ url: '/test/boom', headers: { 'x-request-id': 'req-500' } })
      const body = expectProblem(response, 500)
      assert.doesNotMatch(response.body, /secret_table|\/srv|db\.ts|stack/)
      assert.match(String(body.detail), /req-500/)
    })
  })

  describe('documentation', () => {
    it('redirects / to /docs with 302', async () => {
      const response = await t.app.inject({ url: '/' })
      assert.equal(response.statusCode, 302)
      assert.equal(response.headers.location, '/docs')
    })

    it('serves the docs page and its assets from the package (no CDN)', async () => {
      const page = await t.app.inject({ url: '/docs/' })
      assert.equal(page.statusCode, 200)
      assert.match(String(page.headers['content-type']), /text\/html/)
      assert.doesNotMatch(page.body, /https?:\/\/(?!localhost)[^"']*\.(js|css)/)
      const scripts = [...page.body.matchAll(/src="([^"]+\.js)"/g)].map((match) => match[1])
      assert.ok(scripts.length > 0, 'the page loads scripts')
      for (const src of scripts) {
        const asset = await t.app.inject({ url: new URL(String(src), 'http://x/docs/').pathname })
        assert.equal(asset.statusCode, 200, String(src))
      }
    })

    it('serves OpenAPI 3.1 generated from the route schemas', async () => {
      const response = await t.app.inject({ url: '/openapi.json' })
      assert.equal(response.statusCode, 200)
      const document = response.json()
      assert.equal(document.openapi, '3.1.0')
      assert.ok(document.paths['/healthz'].get.responses['503'].content['application/problem+json'])
    })

    it('serves a human page per problem type and 404 for an unknown one', async () => {
      const page = await t.app.inject({ url: '/problems/validation-error' })
      assert.equal(page.statusCode, 200)
      assert.match(page.body, /Validation failed/)
      expectProblem(await t.app.inject({ url: '/problems/no-such-type' }), 404)
    })
  })
})
