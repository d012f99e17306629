import { describeCodes, type GhzResult } from '../lib/ghz.ts'
import { fmt, markdownTable, type Column } from '../lib/markdown.ts'
import { MESH_SERVICES } from '../lib/mesh.ts'
import type { RunChecks } from './checks.ts'
import { describeLoad, type Load, type Target } from './workload.ts'

/** The goals of the PlaceOrder issue; the bench reports against them and never fails on them. */
export const TARGETS = {
  /** CPU of the whole mesh (services, PostgreSQL, Valkey, Kafka) per OK order. */
  cpuPerOrderMs: 7.5,
  /** Saturation throughput (OK orders/s) against the echo server's. */
  saturationVsEcho: 0.05,
  /** Open loop at the highest rate: OK p99 below this, and no errors. */
  openP99Ms: 150,
  /** Closed loop at the most callers: every call answered within this... */
  answeredWithinMs: 2000,
  /** ...each OK or RESOURCE_EXHAUSTED, OK p99 below this. */
  callersOkP99Ms: 1000,
}

/** The processes whose CPU makes the mesh's cost of an order. */
export const MESH_GROUPS = [...MESH_SERVICES, 'postgres', 'valkey', 'kafka'] as const

/** Order runs: seconds from the end of the load until no payment was pending, and until the services were quiet again. */
export interface Settled {
  paymentsSeconds: number
  quietSeconds: number
  quiet: boolean
}

export interface MeasuredRun {
  target: Target
  load: Load
  startedAt: string
  /** 1-minute load average when the run began: other work on the machine shows up here. */
  loadBefore: number
  ghz: GhzResult
  /** CPU ms per process group: for order runs from the start of the load until the mesh settled, for echo runs during the load. */
  cpuMs: Record<string, number | undefined>
  ghzCommand: string
  settled?: Settled
  /** Each service's resident set in MiB once the mesh was quiet after an order run: what the load left it holding. */
  rssMiB?: Record<string, number>
  checks?: RunChecks
}

const right = (title: string): Column => ({ title, align: 'right' })
const sameLoad = (a: Load, b: Load) => describeLoad(a) === describeLoad(b)
const echoFor = (runs: MeasuredRun[], run: MeasuredRun) => runs.find((r) => r.target === 'echo' && sameLoad(r.load, run.load))

export const meshCpuMs = (run: MeasuredRun) => MESH_GROUPS.reduce((sum, g) => sum + (run.cpuMs[g] ?? 0), 0)
const perOrder = (ms: number | undefined, run: MeasuredRun) => (ms === undefined ? Number.NaN : ms / run.ghz.ok)

/** Order OK/s over echo OK/s at the same load. */
export function vsEcho(runs: MeasuredRun[], run: MeasuredRun): number {
  const echo = echoFor(runs, run)
  return echo ? run.ghz.okPerSecond / echo.ghz.okPerSecond : Number.NaN
}

/** "mesh 12.3 ms CPU/order (customer 2.1, ...)" */
export function describeCpuPerOrder(run: MeasuredRun): string {
  const parts = MESH_GROUPS.map((g) => `${g} ${fmt(perOrder(run.cpuMs[g], run))}`)
  return `mesh ${fmt(perOrder(meshCpuMs(run), run))} ms CPU/order (${parts.join(', ')})`
}

export function runsTable(runs: MeasuredRun[]): string[] {
  return markdownTable(
    ['load', 'target', right('OK/s'), right('vs echo'), right('p50 ms'), right('p95 ms'), right('p99 ms'), right('slowest ms'), 'answers'],
    runs.map((r) => [
      describeLoad(r.load),
      r.target === 'order' ? 'PlaceOrder' : 'echo',
      fmt(r.ghz.okPerSecond, 1),
      r.target === 'order' ? `${fmt(vsEcho(runs, r), 3)}x` : '',
      fmt(r.ghz.p50Ms, 1),
      fmt(r.ghz.p95Ms, 1),
      fmt(r.ghz.p99Ms, 1),
      fmt(r.ghz.slowestMs, 0),
      describeCodes(r.ghz.codes),
    ]),
  )
}

export function cpuTable(orderRuns: MeasuredRun[]): string[] {
  return markdownTable(
    ['load', right('OK orders'), ...MESH_GROUPS.map(right), right('mesh')],
    orderRuns.map((r) => [
      describeLoad(r.load),
      String(r.ghz.ok),
      ...MESH_GROUPS.map((g) => fmt(perOrder(r.cpuMs[g], r))),
      `**${fmt(perOrder(meshCpuMs(r), r))}**`,
    ]),
  )
}

/** Each service's resident set before the runs and once quiet after each order run. */
export function rssTable(orderRuns: MeasuredRun[], before: Record<string, number>): string[] {
  const row = (label: string, rss: Record<string, number> | undefined) => [
    label,
    ...MESH_SERVICES.map((s) => fmt(rss?.[s] ?? Number.NaN, 0)),
  ]
  return markdownTable(
    ['', ...MESH_SERVICES.map(right)],
    [row('before the runs', before), ...orderRuns.map((r) => row(`after ${describeLoad(r.load)}`, r.rssMiB))],
  )
}

export function checkLines(orderRuns: MeasuredRun[]): string[] {
  return orderRuns.flatMap((r) =>
    (r.checks?.checks ?? []).map((c) => `- ${describeLoad(r.load)}: **${c.pass ? 'PASS' : 'FAIL'}** ${c.name} (${c.figures})`),
  )
}

export interface Verdict {
  target: string
  measured: string
  goal: string
  meets: boolean
}

const highest = (runs: MeasuredRun[], by: (r: MeasuredRun) => number) =>
  runs.reduce<MeasuredRun | undefined>((best, r) => (!best || by(r) > by(best) ? r : best), undefined)
const codesOtherThan = (ghz: GhzResult, allowed: string[]) => Object.entries(ghz.codes).filter(([code]) => !allowed.includes(code))
const sumOf = (entries: [string, number][]) => entries.reduce((sum, [, n]) => sum + n, 0)

function saturationVerdicts(runs: MeasuredRun[]): Verdict[] {
  const closed = runs.filter((r) => r.load.kind === 'closed')
  const order = highest(
    closed.filter((r) => r.target === 'order'),
    (r) => r.ghz.okPerSecond,
  )
  const echo = highest(
    closed.filter((r) => r.target === 'echo'),
    (r) => r.ghz.okPerSecond,
  )
  if (!order || !echo) return []
  const ratio = order.ghz.okPerSecond / echo.ghz.okPerSecond
  const cpu = perOrder(meshCpuMs(order), order)
  return [
    {
      target: `CPU per order across the mesh (at saturation, ${describeLoad(order.load)})`,
      measured: `${fmt(cpu)} ms`,
      goal: `<= ${TARGETS.cpuPerOrderMs} ms`,
      meets: cpu <= TARGETS.cpuPerOrderMs,
    },
    {
      target: 'saturation throughput vs echo (best closed-loop OK/s of each)',
      measured: `${fmt(ratio, 3)}x (${fmt(order.ghz.okPerSecond, 1)} vs ${fmt(echo.ghz.okPerSecond, 0)}/s)`,
      goal: `>= ${TARGETS.saturationVsEcho}x`,
      meets: ratio >= TARGETS.saturationVsEcho,
    },
  ]
}

function openLoopVerdicts(orderRuns: MeasuredRun[]): Verdict[] {
  const run = highest(
    orderRuns.filter((r) => r.load.kind === 'open'),
    (r) => (r.load.kind === 'open' ? r.load.rate : 0),
  )
  if (!run) return []
  const at = describeLoad(run.load)
  return [
    {
      target: `${at}: OK p99`,
      measured: `${fmt(run.ghz.p99Ms, 1)} ms`,
      goal: `< ${TARGETS.openP99Ms} ms`,
      meets: run.ghz.p99Ms < TARGETS.openP99Ms,
    },
    { target: `${at}: errors`, measured: describeCodes(run.ghz.codes), goal: 'none', meets: run.ghz.errors === 0 },
  ]
}

function callersVerdicts(orderRuns: MeasuredRun[]): Verdict[] {
  const run = highest(
    orderRuns.filter((r) => r.load.kind === 'closed'),
    (r) => (r.load.kind === 'closed' ? r.load.callers : 0),
  )
  if (!run) return []
  const at = describeLoad(run.load)
  const { ghz } = run
  const late = ghz.codes['DEADLINE_EXCEEDED'] ?? 0
  const refused = codesOtherThan(ghz, ['OK', 'RESOURCE_EXHAUSTED'])
  const transport = (ghz.codes['UNAVAILABLE'] ?? 0) + late
  return [
    {
      target: `${at}: every call answered within ${TARGETS.answeredWithinMs / 1000} s`,
      measured: `slowest ${fmt(ghz.slowestMs, 0)} ms, ${late} DEADLINE_EXCEEDED`,
      goal: `<= ${TARGETS.answeredWithinMs} ms`,
      meets: late === 0 && ghz.slowestMs <= TARGETS.answeredWithinMs,
    },
    {
      target: `${at}: each answer OK or RESOURCE_EXHAUSTED`,
      measured: refused.length ? `${sumOf(refused)} others (${describeCodes(Object.fromEntries(refused))})` : 'all',
      goal: 'all',
      meets: refused.length === 0,
    },
    {
      target: `${at}: OK p99`,
      measured: `${fmt(ghz.p99Ms, 0)} ms`,
      goal: `< ${TARGETS.callersOkP99Ms} ms`,
      meets: ghz.p99Ms < TARGETS.callersOkP99Ms,
    },
    { target: `${at}: UNAVAILABLE + DEADLINE_EXCEEDED`, measured: String(transport), goal: '0', meets: transport === 0 },
  ]
}

/** Every target of the issue with what this run measured. */
export function verdicts(runs: MeasuredRun[]): Verdict[] {
  const orderRuns = runs.filter((r) => r.target === 'order')
  return [...saturationVerdicts(runs), ...openLoopVerdicts(orderRuns), ...callersVerdicts(orderRuns)]
}

export function verdictTable(list: Verdict[]): string[] {
  return markdownTable(
    ['target', right('measured'), right('goal'), ''],
    list.map((v) => [v.target, v.measured, v.goal, v.meets ? 'meets' : 'misses']),
  )
}

export interface SummaryContext {
  startedAt: Date
  /** One paragraph: what each call does and the settings of the runs. */
  workload: string
  idle: Record<string, number | undefined>
  /** Each service's resident set in MiB after the warmup, before the first run. */
  rssBefore: Record<string, number>
  machine: string
  command: string
  saved: string
}

/** The markdown report: every run, CPU per order, the checks, the targets. */
export function summary(runs: MeasuredRun[], context: SummaryContext): string[] {
  const orderRuns = runs.filter((r) => r.target === 'order')
  const idle = MESH_GROUPS.map((g) => `${g} ${fmt(context.idle[g] ?? Number.NaN, 0)}`).join(', ')
  return [
    `## PlaceOrder across the mesh vs bare grpc-js echo (${context.startedAt.toISOString().slice(0, 10)})`,
    '',
    context.workload,
    '',
    ...runsTable(runs),
    '',
    'CPU per OK order in ms, from the start of each load until its payments were settled and the services quiet:',
    '',
    ...cpuTable(orderRuns),
    '',
    `The same processes idle (after the warmup, nothing asked of them), in ms of CPU per second: ${idle}.`,
    '',
    'Resident set of each service in MiB, after the warmup and once quiet after each run (V8 keeps the heap a load grew):',
    '',
    ...rssTable(orderRuns, context.rssBefore),
    '',
    'Checks after each run:',
    '',
    ...checkLines(orderRuns),
    '',
    ...verdictTable(verdicts(runs)),
    '',
    `Machine: ${context.machine}.`,
    '',
    `Reproduce: \`${context.command}\``,
    '',
    `Saved: ${context.saved} (every run, its ghz command line and checks).`,
  ]
}
