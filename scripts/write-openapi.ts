// Writes the OpenAPI document the server serves at /openapi.json to a file, for linting in CI.
import { writeFileSync } from 'node:fs'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const target = process.argv[2] ?? 'openapi.gen.json'
const app = await buildApp(loadConfig({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' }))
await app.ready()
writeFileSync(target, `${JSON.stringify(app.swagger(), null, 2)}\n`)
await app.close()
console.log(`wrote ${target}`)
