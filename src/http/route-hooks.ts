// Hooks that only some routes need, attached to those routes alone: a global hook runs on every request
// (404s included) only to find that it has nothing to do, and each costs a share of a small request.
import type { FastifyInstance, RouteOptions } from 'fastify'

type RouteHookName = 'onRequest' | 'preValidation' | 'onSend' | 'onResponse'
type RouteHook<N extends RouteHookName> = NonNullable<RouteOptions[N]>

/**
 * Adds `handler` as a `name` hook of every route registered from now on that `applies` selects (register
 * before the routes, as for a global hook). Such hooks run after the global hooks of their kind, in the
 * order they were added here.
 */
export function addRouteHook<N extends RouteHookName>(
  app: FastifyInstance,
  name: N,
  handler: RouteHook<N>,
  applies: (route: RouteOptions) => boolean,
): void {
  addRouteHookFor(app, name, (route) => (applies(route) ? handler : undefined))
}

/**
 * As addRouteHook, with a handler made for each route from what it declares (its config, read once here
 * instead of on every request), or none.
 */
export function addRouteHookFor<N extends RouteHookName>(
  app: FastifyInstance,
  name: N,
  handlerFor: (route: RouteOptions) => RouteHook<N> | undefined,
): void {
  app.addHook('onRoute', (route) => {
    const handler = handlerFor(route)
    if (!handler) return
    const existing = route[name] as unknown
    const hooks = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]
    ;(route as Record<RouteHookName, unknown>)[name] = [...hooks, handler]
  })
}
