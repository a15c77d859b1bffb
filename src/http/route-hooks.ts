// Hooks that only some routes need, attached to those routes alone: a global hook runs on every request
// (404s included) only to find that it has nothing to do, and each costs a share of a small request.
import type { FastifyInstance, RouteOptions } from 'fastify'

type RouteHookName = 'preValidation' | 'onSend' | 'onResponse'

/**
 * Adds `handler` as a `name` hook of every route registered from now on that `applies` selects (register
 * before the routes, as for a global hook). Such hooks run after the global hooks of their kind, in the
 * order they were added here.
 */
export function addRouteHook(
  app: FastifyInstance,
  name: RouteHookName,
  handler: NonNullable<RouteOptions[RouteHookName]>,
  applies: (route: RouteOptions) => boolean,
): void {
  app.addHook('onRoute', (route) => {
    if (!applies(route)) return
    const existing = route[name] as unknown
    const hooks = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]
    ;(route as Record<RouteHookName, unknown>)[name] = [...hooks, handler]
  })
}
