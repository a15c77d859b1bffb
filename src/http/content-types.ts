// Which request bodies the API reads: JSON everywhere, JSON Merge Patch on PATCH, nothing else (415).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export const acceptedMediaTypes = {
  post: 'application/json',
  patch: 'application/json, application/merge-patch+json',
} as const

class MergePatchOutsidePatch extends Error {
  readonly code = 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
  readonly statusCode = 415
}

async function contentTypesPlugin(app: FastifyInstance): Promise<void> {
  app.removeContentTypeParser('text/plain')
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, (request, body, done) => {
    if (request.method !== 'PATCH') return done(new MergePatchOutsidePatch(), undefined)
    parseJson(request, body as string, done)
  })
}

export const contentTypes = fp(contentTypesPlugin, { name: 'content-types' })
