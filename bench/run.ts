// Bench entry point (`npm run bench [-- --only a,b]`): measures scenarios vs the bare-Fastify baseline.
import path from 'node:path'
import { HELP, loadConfig, REPO_ROOT } from './lib/config.js'
import { runBench, selectScenarios } from './lib/driver.js'
import { buildReport, renderTable, writeJson } from './lib/report.js'
import { killAllNow } from './lib/servers.js'
import { scenarios } from './scenarios.js'

function installCleanup(): void {
  process.on('exit', killAllNow)
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n[bench] ${signal}: stopping servers\n`)
      killAllNow()
      process.exit(code)
    })
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`[bench] uncaught: ${err.stack ?? err.message}\n`)
    killAllNow()
    process.exit(1)
  })
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`[bench] unhandled rejection: ${String(reason)}\n`)
    killAllNow()
    process.exit(1)
  })
}

async function main(): Promise<number> {
  const config = loadConfig()
  if (config.help) {
    console.log(HELP)
    return 0
  }
  if (config.list) {
    for (const s of scenarios) console.log(`${s.id.padEnd(20)} ${s.server.id.padEnd(12)} ${s.title}`)
    return 0
  }
  const selected = selectScenarios(scenarios, config.only)
  if (selected.length === 0) {
    console.error(`no scenario matches --only ${config.only.join(',')}; ids: ${scenarios.map((s) => s.id).join(', ')}`)
    return 2
  }
  installCleanup()
  const results = await runBench(selected, config, REPO_ROOT)
  const report = buildReport(config, results)
  console.log(renderTable(report))
  const file = await writeJson(report, path.join(REPO_ROOT, 'bench', 'results'))
  console.log(`\nJSON: ${path.relative(process.cwd(), file)}`)
  const failed = results.some((r) => r.verdict === 'ERROR') || (config.strict && results.some((r) => r.verdict === 'MISS'))
  return failed ? 1 : 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    killAllNow()
    process.exitCode = 1
  },
)
