// Writes the OpenAPI document the server serves at /openapi.json to a file, for linting in CI.
import { writeFileSync } from 'node:fs'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'

const target = process.argv[2] ?? 'openapi.gen.json'
const config = loadConfig({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' })
const database = createDatabase(config)
await migrateToLatest(database.db)
const app = await buildApp(config, { database })
await app.ready()
writeFileSync(target, `${JSON.stringify(app.swagger(), null, 2)}\n`)
await app.close()
console.log(`wrote ${target}`)
