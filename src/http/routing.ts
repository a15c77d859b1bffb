// What Fastify leaves out: 405 + Allow from the routes actually registered, OPTIONS, 501, and 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import FindMyWay from 'find-my-way'
import { sendProblem } from './errors.js'
import { NotFound, Problem } from './problem.js'

/** Every path pattern with the methods registered on it, matched against concrete URLs. */
class RouteTable {
  private readonly methodsByPattern = new Map<string, Set<string>>()
  private readonly router = FindMyWay({ ignoreTrailingSlash: false })
  readonly allMethods = new Set<string>(['OPTIONS'])

  add(pattern: string, methods: string[]): void {
    let set = this.methodsByPattern.get(pattern)
    if (!set) {
      set = new Set(['OPTIONS'])
      this.methodsByPattern.set(pattern, set)
      this.router.on('GET', pattern, () => {}, set)
    }
    for (const method of methods) {
      set.add(method)
      this.allMethods.add(method)
    }
  }

  /** The Allow value for a concrete path, or undefined when no route has that path. */
  allow(path: string): string | undefined {
    const found = this.router.find('GET', path)
    if (!found) return undefined
    const methods = found.store as Set<string>
    return [...methods].sort(byConvention).join(', ')
  }
}

/** Problems are immutable (the request id is added when rendering): the common 404 is built once. */
const noSuchPath = new NotFound('No endpoint matches this path.')

const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
const byConvention = (a: string, b: string) => order.indexOf(a) - order.indexOf(b)

function pathOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?')
  return query === -1 ? request.url : request.url.slice(0, query)
}

async function routingPlugin(app: FastifyInstance): Promise<void> {
  const table = new RouteTable()
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    table.add(route.url, methods)
  })

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    if (!table.allMethods.has(request.method)) {
      return sendProblem(reply, new Problem(501, `No endpoint of this API implements ${request.method}.`))
    }
    const allow = table.allow(pathOf(request))
    if (allow === undefined) return sendProblem(reply, noSuchPath)
    if (request.method === 'OPTIONS') return reply.code(204).header('Allow', allow).send()
    return sendProblem(
      reply,
      new Problem(405, `${request.method} is not allowed on this path; it allows ${allow}.`, { headers: { Allow: allow } }),
    )
  })
}

export const routing = fp(routingPlugin, { name: 'routing' })
