// Lists (CONTRACT §6) through test-only routes over a real table: keyset pages, sorts, filters, cursors, Link, 400s.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { Type } from 'typebox'
import { encodeCursor } from '../../src/http/cursor.js'
import { ListQuerystring, type ListSpec, parseListQuery } from '../../src/http/list-query.js'
import { paginate } from '../../src/http/pagination.js'
import { listResponse, sendList } from '../../src/http/representation.js'
import { problemResponses } from '../../src/http/schemas.js'
import { buildTestApp, engine, expectProblem, type TestApp } from '../helpers/app.js'

const SECRET = 'lists-test-secret'
const ROWS = 520
const pg = engine === 'postgres'

interface WidgetsTable {
  id: number
  name: string
  status: string
  size: number
  active: boolean | number
  note: string | null
  created_at: Date | string
  retired_at: Date | string | null
}

/** One row as the test inserted it; `created` is the exact stored text (microseconds on PostgreSQL). */
interface Seed {
  id: number
  name: string
  status: string
  size: number
  active: boolean
  note: string | null
  created: string
  retired: boolean
}

const words = ['apple', 'banana', 'cherry', 'date', 'elder', 'fig', 'grape', 'kiwi', 'lemon', 'mango', 'orange', 'pear']
const notes = ['50% off', '500 units', 'a_b', 'axb', 'plain', null]

/** Deterministic data with many ties in every sort key, and ids that follow none of them. */
function seeds(): Seed[] {
  // mulberry32: a small seeded generator whose low bits are as random as its high ones.
  let state = 42
  const next = (n: number) => {
    state = (state + 0x6d2b79f5) | 0
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state)
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed
    return ((mixed ^ (mixed >>> 14)) >>> 0) % n
  }
  return Array.from({ length: ROWS }, (_, index) => {
    const second = String(next(25)).padStart(2, '0')
    // Three values inside one millisecond on PostgreSQL: a cursor that kept only milliseconds would break.
    const fraction = pg ? `123${['000', '250', '500'][next(3)]}` : '123'
    return {
      id: index + 1,
      name: words[next(words.length)] as string,
      status: ['open', 'resolved', 'ignored'][next(3)] as string,
      size: next(100),
      active: next(3) === 0,
      note: notes[next(notes.length)] ?? null,
      created: `2026-01-01T00:00:${second}.${fraction}Z`,
      retired: next(4) === 0,
    }
  })
}

const Widget = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  status: Type.String(),
  size: Type.Integer(),
  active: Type.Boolean(),
  note: Type.Union([Type.String(), Type.Null()]),
})

const filters = {
  status: { type: 'enum', values: ['open', 'resolved', 'ignored'], ops: ['eq', 'include'] },
  size: { type: 'integer', ops: ['eq', 'include', 'lt', 'lte', 'gt', 'gte'] },
  name: { type: 'string', ops: ['eq', 'like'] },
  note: { type: 'string', ops: ['like'] },
  active: { type: 'boolean', ops: ['eq'] },
  created_at: { type: 'datetime', ops: ['lt', 'lte', 'gt', 'gte'] },
  big: { type: 'boolean', ops: ['eq'], where: (_op, value) => (value ? sql`size >= 50` : sql`size < 50`) },
} as const satisfies ListSpec['filters']

const widgetList: ListSpec = {
  idColumn: 'widgets.id',
  sorts: { name: { type: 'string' }, size: { type: 'integer' }, created_at: { type: 'datetime', column: 'widgets.created_at' } },
  filters,
}

/** A second list over the same table, whose `retired` pseudo-filter defaults to false (like vehicles' archived). */
const activeList: ListSpec = {
  idColumn: 'id',
  filters: {
    retired: {
      type: 'boolean',
      ops: ['eq'],
      where: (_op, value) => (value ? sql`retired_at is not null` : sql`retired_at is null`),
      default: { op: 'eq', value: 'false' },
    },
  },
}

/** postgres.js would pass a timestamptz parameter through a JS Date (milliseconds): send text, cast in SQL. */
const exact = (iso: string) => (pg ? sql<string>`cast(cast(${iso} as text) as timestamptz)` : iso)

async function createWidgets(app: FastifyInstance, rows: Seed[]): Promise<void> {
  const db = app.database.db.withTables<{ widgets: WidgetsTable }>()
  await db.schema
    .createTable('widgets')
    .addColumn('id', pg ? 'bigint' : 'integer', (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('active', pg ? 'boolean' : 'integer', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at', pg ? 'timestamptz' : 'text', (c) => c.notNull())
    .addColumn('retired_at', pg ? 'timestamptz' : 'text')
    .execute()
  await db.schema.createIndex('widgets_created_at_id').on('widgets').columns(['created_at', 'id']).execute()
  const values = rows.map((row) => ({
    id: row.id,
    name: row.name,
    status: row.status,
    size: row.size,
    active: pg ? row.active : Number(row.active),
    note: row.note,
    created_at: exact(row.created),
    retired_at: row.retired ? exact(row.created) : null,
  }))
  for (let start = 0; start < values.length; start += 100) {
    await db
      .insertInto('widgets')
      .values(values.slice(start, start + 100))
      .execute()
  }
}

async function listRoutes(app: FastifyInstance, rows: Seed[]): Promise<void> {
  await createWidgets(app, rows)
  const db = app.database.db.withTables<{ widgets: WidgetsTable }>()
  const routes = [
    ['/test/widgets', widgetList],
    ['/test/active-widgets', activeList],
  ] as const
  for (const [path, spec] of routes) {
    app.get(
      path,
      { schema: { querystring: ListQuerystring, response: { 200: listResponse(Widget, 'Widgets'), ...problemResponses(400) } } },
      async (request, reply) => {
        const list = parseListQuery(request, spec, { secret: SECRET })
        const query = db.selectFrom('widgets').select(['id', 'name', 'status', 'size', 'active', 'note'])
        const page = await paginate(app.database, query, list)
        const records = page.records.map((row) => ({ ...row, active: Boolean(row.active) }))
        return sendList(request, reply, { ...page, records }, (widget) => ({ self: `${path}/${widget.id}` }))
      },
    )
  }
}

/**
 * Lists whose records are the page as paginate() answers it (no response schema strips a stray column): the
 * id selected as it is (read from there), and the id as an aliased expression (selected again for the page).
 */
const layouts = { own: ['id', 'name'], aliased: ['name', 'id'] } as const

function layoutRoutes(app: FastifyInstance): void {
  const db = app.database.db.withTables<{ widgets: WidgetsTable }>()
  for (const layout of Object.keys(layouts) as (keyof typeof layouts)[]) {
    app.get(`/test/widget-layouts/${layout}`, { schema: { querystring: ListQuerystring } }, async (request) => {
      const list = parseListQuery(request, widgetList, { secret: SECRET })
      const widgets = db.selectFrom('widgets')
      const query = layout === 'own' ? widgets.select(['widgets.id', 'name']) : widgets.select(['name', sql<number>`widgets.id`.as('id')])
      return paginate(app.database, query, list)
    })
  }
}

interface Envelope {
  start_cursor: string | null
  next_cursor: string | null
  per_page: number
  estimated_remaining_count: number
  filtered_by: unknown[]
  sorted_by: unknown[]
  records: Array<{ id: number }>
}

type Key = 'id' | 'name' | 'size' | 'created'

/** The rows in (key, id) order, as the contract defines a sort: ties broken by id in the same direction. */
function ordered(rows: Seed[], key: Key, direction: 'asc' | 'desc'): number[] {
  const sign = direction === 'asc' ? 1 : -1
  return [...rows].sort((a, b) => (a[key] < b[key] ? -sign : a[key] > b[key] ? sign : (a.id - b.id) * sign)).map((row) => row.id)
}

describe(`lists: keyset pagination, sorts and filters (${engine})`, () => {
  let t: TestApp
  const rows = seeds()
  before(async () => {
    t = await buildTestApp({
      extend: async (app) => {
        await listRoutes(app, rows)
        layoutRoutes(app)
      },
    })
  })
  after(() => t.close())

  const get = (url: string) => t.app.inject({ url })

  /** Follows next_cursor (through the Link header) to the end, checking every page on the way. */
  async function walk(path: string, query: string, perPage = 7): Promise<number[]> {
    const ids: number[] = []
    let url = `${path}?per_page=${perPage}${query ? `&${query}` : ''}`
    let cursor: string | null = null
    const estimates: Array<[number, number]> = []
    for (let pageNumber = 0; pageNumber < 1000; pageNumber++) {
      const response = await get(url)
      assert.equal(response.statusCode, 200, response.body)
      const page = response.json() as Envelope
      assert.equal(page.start_cursor, cursor)
      assert.equal(page.per_page, perPage)
      assert.ok(page.records.length <= perPage)
      estimates.push([ids.length, page.estimated_remaining_count])
      ids.push(...page.records.map((record) => record.id))
      if (page.next_cursor === null) {
        assert.equal(response.headers.link, undefined, 'no Link on the last page')
        // From each page's start onwards, that page included, counted up to 500.
        for (const [offset, estimate] of estimates) assert.equal(estimate, Math.min(500, ids.length - offset), `at ${offset}`)
        return ids
      }
      assert.equal(page.records.length, perPage, 'only the last page is short')
      const link = /^<([^>]+)>; rel="next"$/.exec(String(response.headers.link))?.[1]
      assert.ok(link, `Link header on page ${pageNumber}`)
      assert.ok(link.includes(`start_cursor=${encodeURIComponent(page.next_cursor)}`))
      cursor = page.next_cursor
      url = link
    }
    throw new Error('pagination did not end')
  }

  describe('walking every page', () => {
    const orders: Array<[string, Key, 'asc' | 'desc']> = [
      ['', 'id', 'desc'],
      ['sort[id]=asc', 'id', 'asc'],
      ['sort[created_at]=desc', 'created', 'desc'],
      ['sort[created_at]=asc', 'created', 'asc'],
      ['sort[name]=asc', 'name', 'asc'],
      ['sort[name]=desc', 'name', 'desc'],
      ['sort[size]=asc', 'size', 'asc'],
    ]
    for (const [query, key, direction] of orders) {
      it(`returns each row exactly once, in order, for ${query || 'the default sort (id desc)'}`, async () => {
        const ids = await walk('/test/widgets', query)
        assert.equal(new Set(ids).size, ROWS, 'no row twice')
        assert.deepEqual(ids, ordered(rows, key, direction))
      })
    }

    it('walks a filtered list sorted by a timestamp full of ties', async () => {
      const ids = await walk('/test/widgets', 'filter[status][include]=open,resolved&sort[created_at]=asc', 11)
      const matching = rows.filter((row) => row.status !== 'ignored')
      assert.deepEqual(ids, ordered(matching, 'created', 'asc'))
    })

    it('walks with the largest page size', async () => {
      assert.deepEqual(await walk('/test/widgets', 'sort[size]=desc', 100), ordered(rows, 'size', 'desc'))
    })

    it('gives records exactly the columns the query selects, whether the id is read from them or selected again', async () => {
      const orders: Array<[string, Key, 'asc' | 'desc']> = [
        ['', 'id', 'desc'],
        ['sort[name]=asc', 'name', 'asc'],
        ['sort[created_at]=desc', 'created', 'desc'],
      ]
      for (const [layout, keys] of Object.entries(layouts)) {
        for (const [query, key, direction] of orders) {
          const ids: number[] = []
          let url = `/test/widget-layouts/${layout}?per_page=100${query ? `&${query}` : ''}`
          for (;;) {
            const page = (await get(url)).json() as Envelope
            for (const record of page.records) assert.deepEqual(Object.keys(record), keys, `${layout} ${query}`)
            ids.push(...page.records.map((record) => Number(record.id)))
            if (!page.next_cursor) break
            url = `/test/widget-layouts/${layout}?per_page=100${query ? `&${query}` : ''}&start_cursor=${encodeURIComponent(page.next_cursor)}`
          }
          assert.deepEqual(ids, ordered(rows, key, direction), `${layout} ${query}`)
        }
      }
    })
  })

  describe('the envelope', () => {
    it('defaults to 50 records sorted by id desc, counting the remainder up to 500', async () => {
      const response = await get('/test/widgets')
      assert.equal(response.statusCode, 200)
      assert.match(String(response.headers['content-type']), /^application\/json/)
      const page = response.json() as Envelope
      assert.deepEqual(Object.keys(page), [
        'start_cursor',
        'next_cursor',
        'per_page',
        'estimated_remaining_count',
        'filtered_by',
        'sorted_by',
        'records',
      ])
      assert.equal(page.start_cursor, null)
      assert.equal(page.per_page, 50)
      assert.equal(page.records.length, 50)
      assert.equal(page.estimated_remaining_count, 500, 'capped although 520 rows match')
      assert.deepEqual(page.filtered_by, [])
      assert.deepEqual(page.sorted_by, [{ id: 'desc' }])
      assert.deepEqual(page.records[0], {
        id: 520,
        name: rows[519]?.name,
        status: rows[519]?.status,
        size: rows[519]?.size,
        active: rows[519]?.active,
        note: rows[519]?.note,
      })
    })

    it('treats an empty start_cursor as the first page', async () => {
      const page = (await get('/test/widgets?start_cursor=&per_page=3')).json() as Envelope
      assert.equal(page.start_cursor, null)
      assert.deepEqual(
        page.records.map((record) => record.id),
        [520, 519, 518],
      )
    })

    it('keeps the client query in the Link header and replaces only start_cursor', async () => {
      const first = await get('/test/widgets?per_page=2&sort%5Bname%5D=asc&filter[status][eq]=open')
      const cursor = (first.json() as Envelope).next_cursor as string
      const expected = `</test/widgets?per_page=2&sort%5Bname%5D=asc&filter[status][eq]=open&start_cursor=${encodeURIComponent(cursor)}>; rel="next"`
      assert.equal(first.headers.link, expected)
      const second = await get(
        `/test/widgets?start_cursor=${encodeURIComponent(cursor)}&per_page=2&sort%5Bname%5D=asc&filter[status][eq]=open`,
      )
      const nextCursor = (second.json() as Envelope).next_cursor as string
      assert.equal(
        second.headers.link,
        `</test/widgets?per_page=2&sort%5Bname%5D=asc&filter[status][eq]=open&start_cursor=${encodeURIComponent(nextCursor)}>; rel="next"`,
      )
    })

    it('lets per_page change between pages of one walk', async () => {
      const first = (await get('/test/widgets?per_page=5&sort[size]=asc')).json() as Envelope
      const second = (
        await get(`/test/widgets?per_page=9&sort[size]=asc&start_cursor=${encodeURIComponent(String(first.next_cursor))}`)
      ).json() as Envelope
      const ids = [...first.records, ...second.records].map((record) => record.id)
      assert.deepEqual(ids, ordered(rows, 'size', 'asc').slice(0, 14))
    })
  })

  describe('filters', () => {
    /** Every record of a filtered list (largest pages), and its filtered_by. */
    async function all(query: string, path = '/test/widgets'): Promise<{ ids: number[]; filteredBy: unknown[] }> {
      const first = (await get(`${path}?per_page=100&sort[id]=asc&${query}`)).json() as Envelope
      return { ids: await walk(path, `sort[id]=asc&${query}`, 100), filteredBy: first.filtered_by }
    }
    /** Comparable text for ISO instants with 3 or 6 fraction digits ('.123Z' sorts after '.123250Z' as text). */
    const instant = (iso: string) => iso.replace(/\.(\d+)Z$/, (_match, fraction: string) => `.${fraction.padEnd(6, '0')}Z`)
    const idsWhere = (predicate: (row: Seed) => boolean) => rows.filter(predicate).map((row) => row.id)

    const cases: Array<[string, (row: Seed) => boolean, unknown[]]> = [
      ['filter[size][eq]=42', (row) => row.size === 42, [{ size: { eq: 42 } }]],
      ['filter[status][eq]=resolved', (row) => row.status === 'resolved', [{ status: { eq: 'resolved' } }]],
      ['filter[status][include]=open,%20ignored', (row) => row.status !== 'resolved', [{ status: { include: ['open', 'ignored'] } }]],
      ['filter[size][include]=1,2,3', (row) => [1, 2, 3].includes(row.size), [{ size: { include: [1, 2, 3] } }]],
      ['filter[size][lt]=10', (row) => row.size < 10, [{ size: { lt: 10 } }]],
      ['filter[size][lte]=10', (row) => row.size <= 10, [{ size: { lte: 10 } }]],
      ['filter[size][gt]=90', (row) => row.size > 90, [{ size: { gt: 90 } }]],
      ['filter[size][gte]=90', (row) => row.size >= 90, [{ size: { gte: 90 } }]],
      ['filter[name][eq]=kiwi', (row) => row.name === 'kiwi', [{ name: { eq: 'kiwi' } }]],
      ['filter[name][like]=RAN', (row) => row.name.includes('ran'), [{ name: { like: 'RAN' } }]],
      ['filter[note][like]=50%25', (row) => row.note === '50% off', [{ note: { like: '50%' } }]],
      ['filter[note][like]=a_b', (row) => row.note === 'a_b', [{ note: { like: 'a_b' } }]],
      ['filter[active][eq]=true', (row) => row.active, [{ active: { eq: true } }]],
      ['filter[active][eq]=false', (row) => !row.active, [{ active: { eq: false } }]],
      ['filter[big][eq]=true', (row) => row.size >= 50, [{ big: { eq: true } }]],
      [
        'filter[created_at][gte]=2026-01-01T00:00:10Z&filter[created_at][lt]=2026-01-01T01:00:20%2B01:00',
        (row) => row.created >= '2026-01-01T00:00:10' && row.created < '2026-01-01T00:00:20',
        [{ created_at: { gte: '2026-01-01T00:00:10.000Z' } }, { created_at: { lt: '2026-01-01T00:00:20.000Z' } }],
      ],
      [
        'filter[created_at][gt]=2026-01-01T00:00:05.123Z&filter[created_at][lte]=2026-01-01T00:00:07.124Z',
        (row) => instant(row.created) > instant('2026-01-01T00:00:05.123Z') && instant(row.created) <= instant('2026-01-01T00:00:07.124Z'),
        [{ created_at: { gt: '2026-01-01T00:00:05.123Z' } }, { created_at: { lte: '2026-01-01T00:00:07.124Z' } }],
      ],
      [
        'filter[status][include]=open&filter[size][gte]=50&filter[name][like]=e',
        (row) => row.status === 'open' && row.size >= 50 && row.name.includes('e'),
        [{ name: { like: 'e' } }, { size: { gte: 50 } }, { status: { include: ['open'] } }],
      ],
    ]
    for (const [query, predicate, filteredBy] of cases) {
      it(`applies ${decodeURIComponent(query)}`, async () => {
        const expected = idsWhere(predicate)
        assert.ok(expected.length > 0, 'the case selects something')
        assert.ok(expected.length < ROWS, 'the case leaves something out')
        const result = await all(query)
        assert.deepEqual(result.ids, expected)
        assert.deepEqual(result.filteredBy, filteredBy)
      })
    }

    it('applies a default pseudo-filter unless the client sends its own', async () => {
      const active = await all('', '/test/active-widgets')
      assert.deepEqual(
        active.ids,
        idsWhere((row) => !row.retired),
      )
      assert.deepEqual(active.filteredBy, [{ retired: { eq: false } }])
      const retired = await all('filter[retired][eq]=true', '/test/active-widgets')
      assert.deepEqual(
        retired.ids,
        idsWhere((row) => row.retired),
      )
      assert.deepEqual(retired.filteredBy, [{ retired: { eq: true } }])
    })
  })

  describe('bad parameters answer 400 naming them', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['filter[colour][eq]=red', 'filter[colour][eq]', /colour is not a filter of this list\. Filters: status \(eq, include\); size/],
      ['filter[status][lt]=open', 'filter[status][lt]', /status cannot be filtered with lt; it takes eq, include/],
      ['filter[status][between]=open', 'filter[status][between]', /cannot be filtered with between/],
      ['filter[status]=open', 'filter[status]', /not of the form filter\[<field>\]\[<operator>\]/],
      ['filter[size][eq]=abc', 'filter[size][eq]', /must be an integer/],
      ['filter[size][eq]=1.5', 'filter[size][eq]', /must be an integer/],
      ['filter[size][include]=1,x', 'filter[size][include]', /every value must be an integer/],
      ['filter[size][include]=1,,2', 'filter[size][include]', /comma-separated list/],
      ['filter[status][include]=', 'filter[status][include]', /comma-separated list/],
      ['filter[created_at][gte]=yesterday', 'filter[created_at][gte]', /ISO-8601 date-time/],
      ['filter[created_at][gte]=2026-02-30T00:00:00Z', 'filter[created_at][gte]', /ISO-8601 date-time/],
      ['filter[status][eq]=broken', 'filter[status][eq]', /must be one of open, resolved, ignored/],
      ['filter[active][eq]=yes', 'filter[active][eq]', /must be true or false/],
      ['filter[size][eq]=1&filter[size][eq]=2', 'filter[size][eq]', /filter\[size\]\[eq\]/],
      ['per_page=0', 'per_page', /per_page/],
      ['per_page=101', 'per_page', /per_page/],
      ['per_page=abc', 'per_page', /per_page/],
      ['sort[colour]=asc', 'sort[colour]', /colour is not sortable\. Sortable fields: id, name, size, created_at/],
      ['sort[name]=up', 'sort[name]', /must be asc or desc/],
      ['sort[name]=asc&sort[size]=desc', 'sort[size]', /one field at a time/],
      ['sort=name', 'sort', /not of the form sort\[<field>\]/],
      ['start_cursor=abc', 'start_cursor', /not a cursor of this list/],
    ]
    for (const [query, parameter, detail] of bad) {
      it(`rejects ${query}`, async () => {
        const body = expectProblem(await get(`/test/widgets?${query}`), 400, '/problems/invalid-parameter')
        assert.equal(body.parameter, parameter)
        assert.match(String(body.detail), detail)
      })
    }

    async function firstCursor(query: string, path = '/test/widgets'): Promise<string> {
      const page = (await get(`${path}?per_page=3&${query}`)).json() as Envelope
      assert.ok(page.next_cursor)
      return page.next_cursor
    }

    async function rejected(url: string, detail: RegExp) {
      const body = expectProblem(await get(url), 400, '/problems/invalid-parameter')
      assert.equal(body.parameter, 'start_cursor')
      assert.match(String(body.detail), detail)
    }

    it('rejects a tampered cursor', async () => {
      const cursor = await firstCursor('sort[size]=asc')
      const [payload = '', mac = ''] = cursor.split('.')
      const edited = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { k: [number, number] }
      edited.k = [0, 1]
      const forged = `${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${mac}`
      await rejected(`/test/widgets?sort[size]=asc&start_cursor=${forged}`, /not a cursor of this list/)
      const flipped = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`
      await rejected(`/test/widgets?sort[size]=asc&start_cursor=${encodeURIComponent(flipped)}`, /not a cursor of this list/)
      await rejected(`/test/widgets?sort[size]=asc&start_cursor=${payload}`, /not a cursor of this list/)
    })

    it('rejects a cursor whose MAC is spelt another way that decodes to the same bytes', async () => {
      const cursor = await firstCursor('sort[size]=asc')
      // 16 MAC bytes make 22 base64url characters; the last carries 2 bits and 4 spare ones a decoder ignores.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const last = alphabet.indexOf(cursor.at(-1) ?? '')
      const respelt = `${cursor.slice(0, -1)}${alphabet[last ^ 1]}`
      assert.deepEqual(Buffer.from(respelt.split('.')[1] ?? '', 'base64url'), Buffer.from(cursor.split('.')[1] ?? '', 'base64url'))
      await rejected(`/test/widgets?sort[size]=asc&start_cursor=${encodeURIComponent(respelt)}`, /not a cursor of this list/)
    })

    it('rejects a cursor signed with another secret', async () => {
      const foreign = encodeCursor({ after: { value: 3, id: 3 }, sort: { field: 'size', direction: 'asc' }, fingerprint: 'x' }, 'other')
      await rejected(`/test/widgets?sort[size]=asc&start_cursor=${foreign}`, /not a cursor of this list/)
    })

    it('rejects a cursor reused with another sort', async () => {
      const cursor = encodeURIComponent(await firstCursor('sort[created_at]=desc'))
      await rejected(`/test/widgets?sort[created_at]=asc&start_cursor=${cursor}`, /belongs to sort\[created_at\]=desc/)
      await rejected(`/test/widgets?sort[name]=desc&start_cursor=${cursor}`, /belongs to sort\[created_at\]=desc/)
      await rejected(`/test/widgets?start_cursor=${cursor}`, /belongs to sort\[created_at\]=desc/)
    })

    it('rejects a cursor reused with other filters or on another list', async () => {
      const cursor = encodeURIComponent(await firstCursor('filter[status][eq]=open'))
      await rejected(`/test/widgets?filter[status][eq]=resolved&start_cursor=${cursor}`, /belongs to other filters/)
      await rejected(`/test/widgets?start_cursor=${cursor}`, /belongs to other filters/)
      const plain = encodeURIComponent(await firstCursor(''))
      await rejected(`/test/active-widgets?start_cursor=${plain}`, /belongs to other filters/)
    })

    it('accepts the same filters written in another order', async () => {
      const cursor = encodeURIComponent(await firstCursor('filter[status][eq]=open&filter[size][gt]=5'))
      const response = await get(`/test/widgets?filter[size][gt]=5&filter[status][eq]=open&per_page=3&start_cursor=${cursor}`)
      assert.equal(response.statusCode, 200, response.body)
    })
  })

  it('documents list routes in OpenAPI with both media types', async () => {
    const document = (await get('/openapi.json')).json()
    const operation = document.paths['/test/widgets'].get
    assert.ok(operation.parameters.some((parameter: { name: string }) => parameter.name === 'per_page'))
    assert.ok(operation.responses['200'].content['application/json'].schema.properties.next_cursor)
    assert.ok(operation.responses['200'].content['application/hal+json'].schema.properties._embedded)
    assert.ok(operation.responses['200'].headers.Link)
  })
})
