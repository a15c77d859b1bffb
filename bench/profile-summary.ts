// Summarizes V8 .cpuprofile files (from BENCH_CPU_PROF=<dir> npm run bench): top self-time functions and modules.
// Usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [more files] [--top N] [--window-sec S]
//   --window-sec S: only the samples of the busiest S seconds (the load, without startup, the API setup
//   calls and shutdown). Use BENCH_DURATION (+ warm-up) of a one-scenario, one-run profiling bench.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const repoRoot = path.resolve(import.meta.dirname, '..')

/** Where a frame lives: `pkg:<name>` for node_modules, the repo-relative file otherwise, `node:` internals. */
function moduleOf(url: string): string {
  if (url === '') return '(native/vm)'
  const file = url.startsWith('file://') ? new URL(url).pathname : url
  const nm = file.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/')
    return `pkg:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`
  }
  if (file.startsWith('node:')) return file
  return path.relative(repoRoot, file)
}

function summarize(file: string, top: number, windowSec: number | null): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  const times: number[] = []
  let t = profile.startTime
  for (const delta of profile.timeDeltas) {
    t += delta
    times.push(t)
  }
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
  let [from, to] = [0, profile.samples.length]
  if (windowSec !== null) {
    // Two pointers: the window of windowSec seconds holding the most non-idle time.
    let best = -1
    let busy = 0
    let lo = 0
    for (let hi = 0; hi < profile.samples.length; hi++) {
      if (!idleIds.has(profile.samples[hi] as number)) busy += profile.timeDeltas[hi] ?? 0
      while ((times[hi] ?? 0) - (times[lo] ?? 0) > windowSec * 1e6) {
        if (!idleIds.has(profile.samples[lo] as number)) busy -= profile.timeDeltas[lo] ?? 0
        lo++
      }
      if (busy > best) [best, from, to] = [busy, lo, hi + 1]
    }
    const end = times.at(-1) ?? 0
    console.log(
      `\n${path.basename(file)}: window ${((end - (times[from] ?? 0)) / 1e6).toFixed(1)} s to ${((end - (times[to - 1] ?? 0)) / 1e6).toFixed(1)} s before the profile's end`,
    )
  }
  for (let i = from; i < to; i++) {
    const id = profile.samples[i] as number
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const fns = new Map<string, number>()
  const mods = new Map<string, number>()
  let idle = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (!node) continue
    const { functionName, url, lineNumber } = node.callFrame
    if (functionName === '(idle)') {
      idle += us
      continue
    }
    const mod = functionName.startsWith('(') ? functionName : moduleOf(url)
    const key = `${functionName || '(anonymous)'}  ${mod}${url ? `:${lineNumber + 1}` : ''}`
    fns.set(key, (fns.get(key) ?? 0) + us)
    mods.set(mod, (mods.get(mod) ?? 0) + us)
  }
  const busy = total - idle
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`
  console.log(
    `\n=== ${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle`,
  )
  console.log(`\nTop ${top} functions by self time (% of busy time):`)
  for (const [key, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)} ${ms(us)}  ${key}`)
  // Inclusive (self + callees) time of the repo's own functions: which product code paths cost the most.
  const inclusive = new Map<number, number>()
  const incl = (id: number): number => {
    const known = inclusive.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)
    const sum = (selfUs.get(id) ?? 0) + (node?.children ?? []).reduce((a, c) => a + incl(c), 0)
    inclusive.set(id, sum)
    return sum
  }
  const ownFns = new Map<string, number>()
  const onStack = new Map<string, number>()
  const walk = (id: number) => {
    const node = byId.get(id)
    if (!node) return
    const { functionName, url, lineNumber } = node.callFrame
    const mod = moduleOf(url)
    const own = url !== '' && !mod.startsWith('pkg:') && !mod.startsWith('node:')
    const key = `${functionName || '(anonymous)'}  ${mod}:${lineNumber + 1}`
    // Count a function once per stack (recursion would count it twice).
    if (own && !onStack.get(key)) ownFns.set(key, (ownFns.get(key) ?? 0) + incl(id))
    if (own) onStack.set(key, (onStack.get(key) ?? 0) + 1)
    for (const child of node.children ?? []) walk(child)
    if (own) onStack.set(key, (onStack.get(key) ?? 1) - 1)
  }
  const root = profile.nodes[0]
  if (root) walk(root.id)
  console.log(`\nTop ${top} repo functions by inclusive time (self + callees):`)
  for (const [key, us] of [...ownFns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)} ${ms(us)}  ${key}`)

  console.log(`\nSelf time by module / package:`)
  for (const [key, us] of [...mods].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)} ${ms(us)}  ${key}`)
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, 'window-sec': { type: 'string' } },
})
if (positionals.length === 0) {
  console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile>... [--top N]')
  process.exit(2)
}
const windowSec = values['window-sec'] === undefined ? null : Number(values['window-sec'])
for (const file of positionals) summarize(file, Number(values.top), windowSec)
