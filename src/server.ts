// serve: open and migrate the database, build the app, listen, and drain on SIGTERM/SIGINT.
import { setFlagsFromString } from 'node:v8'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { type Config, DEFAULT_DATABASE_URL } from './config.js'
import { createDatabase } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'
import { demoBanner, seedDemo } from './demo.js'

/** In-flight requests get this long to finish after SIGTERM before the process gives up on them. */
const SHUTDOWN_GRACE_MS = 10_000

export async function serve(config: Readonly<Config>, options: { demo: boolean }): Promise<void> {
  // Read by V8 at each full collection, so it applies from now on (a heap flag, not a start-up one).
  if (config.HEAP_GROWING_PERCENT > 0) setFlagsFromString(`--heap-growing-percent=${config.HEAP_GROWING_PERCENT}`)
  const database = createDatabase(config)
  await migrateToLatest(database.db)
  const app = await buildApp(config, { database })
  // The demo is for the embedded default only: an operator's own database is never written to unasked.
  const demo = options.demo && config.DATABASE_URL === DEFAULT_DATABASE_URL ? await seedDemo(database.db) : null

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'draining and shutting down')
    await app.close()
  })

  const address = await app.listen({ port: config.PORT, host: config.HOST })
  app.log.info(`fleet-faults listening on ${address} (${database.engine})`)
  console.log(`\nfleet-faults is up: ${address}   docs: ${address}/docs`)
  console.log(demo ? `${demoBanner(address, demo)}\n` : `  try: curl -i ${address}/healthz\n`)
}
