/**
 * Where a service's CPU went, from the V8 CPU profiles a bench's services write when
 * CPU_PROFILE_DIR is set (testkit startProcess passes --cpu-prof; each service writes
 * `<service>-<port>.cpuprofile` when it stops):
 *
 *   CPU_PROFILE_DIR=/tmp/prof BENCH_ORDER_CALLERS=50 BENCH_ORDER_RATES= pnpm exec node bench/place-order.bench.ts
 *   pnpm exec node bench/profile-summary.ts /tmp/prof [seconds]
 *
 * A profile covers a process's whole life (start, setup, load, idle). The summary keeps one
 * window: the busiest `seconds` (default 18) of the Order Service's profile, the load, and reads
 * every profile over that same window (V8's profile clock is the machine's monotonic clock, shared
 * by the processes). For each service: busy time in the window, then self time by package
 * (a dependency, a Node internal, or our own source folder) and the busiest functions.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

const [dir, seconds = '18'] = process.argv.slice(2)
if (!dir) {
  console.error('usage: node bench/profile-summary.ts <CPU_PROFILE_DIR> [window seconds]')
  process.exit(2)
}

const packageOf = ({ url, functionName }: ProfileNode['callFrame']): string => {
  if (!url) return functionName || '(native)'
  const dep = url.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((@[^/]+\/)?[^/]+)/)
  if (dep) return dep[1]!
  if (url.startsWith('node:')) return url
  const ours = url.match(/\/((services|gen|bench)\/[^/]+\/src|gen\/src\/[^/]+)\//)
  return ours ? ours[1]! : url
}
const functionOf = ({ url, functionName, lineNumber }: ProfileNode['callFrame']) =>
  `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/.*\/(services|gen)\//, '$1/')}:${lineNumber + 1}`

/** Sample times (µs, monotonic) and each sample's duration. */
function timeline(p: Profile) {
  let t = p.startTime
  const at = p.timeDeltas.map((d) => (t += d))
  const took = p.timeDeltas.map((_, i) => p.timeDeltas[i + 1] ?? 0)
  return { at, took }
}

function busiestWindow(p: Profile, windowUs: number): [number, number] {
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
  const { at, took } = timeline(p)
  let best: [number, number, number] = [0, at[0] ?? 0, at[0] ?? 0]
  let busy = 0
  for (let i = 0, j = 0; i < at.length; i++) {
    if (!idle.has(p.samples[i]!)) busy += took[i]!
    while (at[i]! - at[j]! > windowUs) if (!idle.has(p.samples[j++]!)) busy -= took[j - 1]!
    if (busy > best[0]) best = [busy, at[j]!, at[i]!]
  }
  return [best[1], best[2]]
}

function summarize(p: Profile, [from, to]: [number, number]) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const { at, took } = timeline(p)
  const packages = new Map<string, number>()
  const functions = new Map<string, number>()
  let busy = 0
  for (let i = 0; i < at.length; i++) {
    if (at[i]! < from || at[i]! > to) continue
    const frame = byId.get(p.samples[i]!)!.callFrame
    if (frame.functionName === '(idle)') continue
    busy += took[i]!
    packages.set(packageOf(frame), (packages.get(packageOf(frame)) ?? 0) + took[i]!)
    functions.set(functionOf(frame), (functions.get(functionOf(frame)) ?? 0) + took[i]!)
  }
  return { busy, packages, functions }
}

const top = (m: Map<string, number>, total: number, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n')

const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
const profiles = new Map(files.map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile]))
const reference = files.find((f) => f.startsWith('order-')) ?? files[0]
if (!reference) throw new Error(`no .cpuprofile in ${dir}`)
const window = busiestWindow(profiles.get(reference)!, Number(seconds) * 1e6)
console.log(`window: the busiest ${seconds} s of ${reference}\n`)
for (const [file, profile] of profiles) {
  const { busy, packages, functions } = summarize(profile, window)
  console.log(
    `${file}: ${(busy / 1000).toFixed(0)} ms busy\n${top(packages, busy, 12)}\n  busiest functions:\n${top(functions, busy, 12)}\n`,
  )
}
