// Bench entry point (`npm run bench [-- --only a,b]`): measures scenarios vs the bare-Fastify baseline.
import path from 'node:path'
import { HELP, loadConfig, REPO_ROOT } from './lib/config.js'
import { runBench, selectScenarios } from './lib/driver.js'
import { buildReport, renderTable, writeJson } from './lib/report.js'
import { requestStop, runAllCleanups } from './lib/resources.js'
import { killAllNow } from './lib/servers.js'
import { scenarios } from './scenarios.js'

function installCleanup(): void {
  process.on('exit', killAllNow)
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n[bench] ${signal}: stopping servers, dropping bench databases\n`)
      requestStop()
      killAllNow()
      void runAllCleanups(5_000).finally(() => {
        killAllNow() // anything spawned while the cleanups ran
        process.exit(code)
      })
    })
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`[bench] uncaught: ${err.stack ?? err.message}\n`)
    killAllNow()
    void runAllCleanups(5_000).finally(() => process.exit(1))
  })
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`[bench] unhandled rejection: ${String(reason)}\n`)
    killAllNow()
    void runAllCleanups(5_000).finally(() => process.exit(1))
  })
}

async function main(): Promise<number> {
  const config = loadConfig()
  if (config.help) {
    console.log(HELP)
    return 0
  }
  if (config.list) {
    for (const s of scenarios) {
      console.log(`${s.id.padEnd(32)} ${s.server.id.padEnd(18)} ${s.title}${s.optIn ? '  [opt-in]' : ''}`)
    }
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
    void runAllCleanups(5_000)
  },
)
