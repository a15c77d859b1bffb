// Puts the database on the app (app.database), migrated, and closes it when the app closes.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Database } from './database.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: Database
  }
}

async function register(app: FastifyInstance, options: { database: Database }): Promise<void> {
  app.decorate('database', options.database)
  app.addHook('onClose', async () => {
    await options.database.close()
  })
}

export const databasePlugin = fp(register, { name: 'database' })
