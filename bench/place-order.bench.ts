/**
 * PlaceOrder through the whole mesh (Order, Customer, Favorites, Loyalty as four Node processes on
 * PostgreSQL, Valkey and Kafka) against a bare grpc-js echo server under the same ghz load, closed
 * loop at several numbers of callers and open loop at several arrival rates. Per run: throughput,
 * latency, status codes, CPU per order of every process, and after-run checks of what the orders
 * left behind. A report, not a test: it exits 0 whatever the numbers are, 1 only on a crash.
 *
 *   pnpm --filter @brewmesh/bench bench:order
 *   BENCH_ORDER_DURATION=10s pnpm exec node bench/place-order.bench.ts
 *
 * Settings (environment): BENCH_ORDER_DURATION (20s per run), BENCH_ORDER_WARMUP (5s, 0s: none),
 * BENCH_ORDER_CALLERS (50,200,1000), BENCH_ORDER_RATES (20,60,200 orders/s), BENCH_ORDER_TIMEOUT
 * (2s per call), BENCH_ORDER_CUSTOMERS (500), BENCH_ORDER_STREAMS_PER_CONNECTION (100),
 * BENCH_ORDER_PAYMENT_DELAY_MS (2000), BENCH_ORDER_SETTLE_TIMEOUT_MS (60000), BENCH_GHZ_CPUS (1).
 */
import { randomUUID } from 'node:crypto'
import { relative } from 'node:path'
import { performance } from 'node:perf_hooks'
import { testIssuer } from '@brewmesh/testkit/tokens.ts'
import { echoPayloadFor, echoResponseBytes } from './echo/echo-size.ts'
import { startEchoServer, type EchoServer } from './echo/echo-server.ts'
import { reproduceCommand } from './lib/command.ts'
import { clockTicks, cpuMsBetween, cpuPerSecond, sampleCpu, totalCpuMs, untilQuiet, type ProcessGroup } from './lib/cpu-time.ts'
import { describeCodes, ensureGhz, ghzCommandLine, runGhz } from './lib/ghz.ts'
import { ensureInfra } from './lib/infra.ts'
import { interruptOnSignals } from './lib/interrupt.ts'
import { note } from './lib/log.ts'
import { describeMachine, loadNow, machineInfo } from './lib/machine.ts'
import { fmt } from './lib/markdown.ts'
import { runBench } from './lib/main.ts'
import { MESH_SERVICES, startMesh, type Mesh } from './lib/mesh.ts'
import { rssMiB } from './lib/memory.ts'
import { pgClient } from './lib/pg.ts'
import { infrastructureGroups } from './lib/processes.ts'
import { REPO } from './lib/repo.ts'
import { datedFileName, saveResults } from './lib/results.ts'
import { checkRun, settlePayments, type CheckDatabases, type OrderCounts } from './place-order/checks.ts'
import { describeCpuPerOrder, summary, TARGETS, verdicts, vsEcho, type MeasuredRun, type Settled } from './place-order/report.ts'
import { placeOneOrder, seedCallers } from './place-order/setup.ts'
import { describeLoad, prepareWorkload, type Load, type Target, type Workload } from './place-order/workload.ts'

const list = (value: string) =>
  value
    .split(',')
    .map(Number)
    .filter((n) => n > 0)

const settings = {
  duration: process.env['BENCH_ORDER_DURATION'] ?? '20s',
  warmup: process.env['BENCH_ORDER_WARMUP'] ?? '5s',
  callers: list(process.env['BENCH_ORDER_CALLERS'] ?? '50,200,1000'),
  rates: list(process.env['BENCH_ORDER_RATES'] ?? '20,60,200'),
  timeout: process.env['BENCH_ORDER_TIMEOUT'] ?? '2s',
  customers: Number(process.env['BENCH_ORDER_CUSTOMERS'] ?? 500),
  streamsPerConnection: Number(process.env['BENCH_ORDER_STREAMS_PER_CONNECTION'] ?? 100),
  paymentDelayMs: Number(process.env['BENCH_ORDER_PAYMENT_DELAY_MS'] ?? 2000),
  settleTimeoutMs: Number(process.env['BENCH_ORDER_SETTLE_TIMEOUT_MS'] ?? 60_000),
  ghzCpus: Number(process.env['BENCH_GHZ_CPUS'] ?? 1),
  /** 1.00-off rewards funded per customer: far more than any run places (each order redeems one). */
  rewardsEach: 10_000,
  /** Customers set up at a time. */
  setupConcurrency: 20,
  /** The window in which the idle mesh's CPU is measured, after the setup and warmup. */
  idleWindowMs: 5000,
}
const SETTING_VARS = [
  'BENCH_ORDER_DURATION',
  'BENCH_ORDER_WARMUP',
  'BENCH_ORDER_CALLERS',
  'BENCH_ORDER_RATES',
  'BENCH_ORDER_TIMEOUT',
  'BENCH_ORDER_CUSTOMERS',
  'BENCH_ORDER_STREAMS_PER_CONNECTION',
  'BENCH_ORDER_PAYMENT_DELAY_MS',
  'BENCH_ORDER_SETTLE_TIMEOUT_MS',
  'BENCH_GHZ_CPUS',
]

/** What every service gets on top of isolatedEnv: deployed defaults where the tests' differ, every payment approved, no rate limit in the way. */
const MESH_ENV = {
  LOG_LEVEL: 'warn',
  HEALTH_INTERVAL_MS: '2000',
  PAYMENT_SUCCESS_PERCENT: '100',
  PAYMENT_DELAY_MS: String(settings.paymentDelayMs),
  RATE_LIMIT_WRITES: '1000000',
}

const LOADS: Load[] = [
  ...settings.callers.map((callers): Load => ({ kind: 'closed', callers })),
  ...settings.rates.map((rate): Load => ({ kind: 'open', rate })),
]

// Ctrl-C or SIGTERM kills ghz and ends the waits; the mesh still stops and its schemas, topics and keys go.
const interrupt = interruptOnSignals()

/** What the runs share. */
interface Bench {
  workload: Workload
  ports: Record<Target, number>
  dbs: CheckDatabases
  /** Every process whose CPU is sampled: the four services and the servers. */
  groups: ProcessGroup[]
  services: ProcessGroup[]
  /** The four services count as quiet again after a load below this much CPU per second (their idle cost plus a margin). */
  quietMsPerSecond: number
  tag: string
}

function processGroups(mesh: Mesh): { groups: ProcessGroup[]; services: ProcessGroup[] } {
  const services = MESH_SERVICES.map((name) => ({ name, pids: () => [mesh.pids[name]] }))
  return { services, groups: [...services, ...infrastructureGroups()] }
}

// ------------------------------------------------------------------- runs ----

/**
 * After a load: its payments answered (the mock processor's delay), then the services back to
 * their idle CPU (consumers and jobs caught up), so the order runs' CPU holds all their work.
 */
async function settle(bench: Bench, requestPrefix: string): Promise<{ counts: OrderCounts; settled: Settled }> {
  const loadEnded = performance.now()
  const seconds = () => (performance.now() - loadEnded) / 1000
  const counts = await settlePayments(bench.dbs.orders, requestPrefix, settings.settleTimeoutMs, interrupt.signal)
  const paymentsSeconds = seconds()
  const quiet = await untilQuiet(bench.services, bench.quietMsPerSecond, settings.settleTimeoutMs, interrupt.signal)
  if (!quiet) note(`the services were still busy ${settings.settleTimeoutMs} ms after the payments; measuring on`)
  return { counts, settled: { paymentsSeconds, quietSeconds: seconds(), quiet } }
}

function describeRun(runs: MeasuredRun[], r: MeasuredRun): string {
  const { ghz } = r
  const head = `${describeLoad(r.load)} ${r.target === 'order' ? 'PlaceOrder' : 'echo'}: ${fmt(ghz.okPerSecond, 1)} OK/s`
  const latency = `p50 ${fmt(ghz.p50Ms, 1)} p95 ${fmt(ghz.p95Ms, 1)} p99 ${fmt(ghz.p99Ms, 1)} slowest ${fmt(ghz.slowestMs, 0)} ms`
  const cpu = r.target === 'order' ? ` ${fmt(vsEcho(runs, r), 3)}x echo, ${describeCpuPerOrder(r)}` : ''
  const settled = r.settled
    ? `, payments settled ${fmt(r.settled.paymentsSeconds, 1)} s and quiet ${fmt(r.settled.quietSeconds, 1)} s after`
    : ''

  return `${head}  ${latency}  [${describeCodes(ghz.codes)}]${cpu}  (load ${fmt(r.loadBefore)} before${settled})`
}

async function measure(bench: Bench, target: Target, load: Load, requestPrefix: string): Promise<MeasuredRun> {
  const args = bench.workload.args(target, load, settings.duration, bench.ports[target], requestPrefix)
  const startedAt = new Date()
  const loadBefore = loadNow()
  const before = sampleCpu(bench.groups)
  const ghz = await runGhz(args, { env: bench.workload.env, signal: interrupt.signal })
  const run = { target, load, startedAt: startedAt.toISOString(), loadBefore, ghz, ghzCommand: ghzCommandLine(args) }
  if (target === 'echo') return { ...run, cpuMs: cpuMsBetween(before, sampleCpu(bench.groups)) }
  const { counts, settled } = await settle(bench, requestPrefix)
  const cpuMs = cpuMsBetween(before, sampleCpu(bench.groups))
  const rss = servicesRss(bench)
  const checks = await checkRun(bench.dbs, { requestPrefix, startedAt, ok: ghz.ok, paymentsSeconds: settled.paymentsSeconds }, counts)
  return { ...run, cpuMs, settled, rssMiB: rss, checks }
}

/** Each service's resident set in MiB, now. */
const servicesRss = (bench: Pick<Bench, 'services'>): Record<string, number> =>
  Object.fromEntries(bench.services.map((s) => [s.name, rssMiB(s.pids()[0]!)]))

/** Every load, echo then PlaceOrder, each reported as it ends. */
async function measureAll(bench: Bench): Promise<MeasuredRun[]> {
  const runs: MeasuredRun[] = []
  for (const [i, load] of LOADS.entries()) {
    for (const target of ['echo', 'order'] as const) {
      const run = await measure(bench, target, load, `${bench.tag}-${i}`)
      runs.push(run)
      note(describeRun(runs, run))
      for (const c of run.checks?.checks ?? []) note(`  ${c.pass ? 'PASS' : 'FAIL'} ${c.name}: ${c.figures}`)
    }
  }
  return runs
}

/** Connections, JIT, caches and statements of both targets, thrown away; then its payments are let through. */
async function warmup(bench: Omit<Bench, 'quietMsPerSecond'>): Promise<void> {
  if (/^0(s|ms)?$/.test(settings.warmup)) return
  const load: Load = { kind: 'closed', callers: settings.callers[0] ?? 50 }
  note(`warmup: ${settings.warmup} of echo and PlaceOrder at ${describeLoad(load)} (thrown away)`)
  const requestPrefix = `${bench.tag}-warmup`
  for (const target of ['echo', 'order'] as const) {
    await runGhz(bench.workload.args(target, load, settings.warmup, bench.ports[target], requestPrefix), {
      env: bench.workload.env,
      signal: interrupt.signal,
    })
  }
  await settlePayments(bench.dbs.orders, requestPrefix, settings.settleTimeoutMs, interrupt.signal)
}

/**
 * What the mesh and the servers use doing nothing (health checks, consumers polling, job
 * schedulers; and whatever else runs on the shared servers), a few seconds after the warmup.
 */
async function idleCost(groups: ProcessGroup[]): Promise<Record<string, number | undefined>> {
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const idle = await cpuPerSecond(groups, settings.idleWindowMs, interrupt.signal)
  note(
    `idle CPU, ms per second: ${Object.entries(idle)
      .map(([g, ms]) => `${g} ${fmt(ms ?? Number.NaN, 0)}`)
      .join(', ')}`,
  )
  return idle
}

// ------------------------------------------------------------------- main ----

async function main(): Promise<void> {
  const startedAt = new Date()
  const loadAtStart = loadNow()
  const { infra, source } = await ensureInfra()
  const ghzVersion = await ensureGhz()
  const issuer = await testIssuer()

  note(`infra from ${source}; starting the mesh (four processes, migrating first)`)
  const mesh = await startMesh(infra, issuer, MESH_ENV)
  const dbs: CheckDatabases = {
    orders: pgClient(mesh.envs.order, 'brewmesh-bench-order'),
    loyalty: pgClient(mesh.envs.loyalty, 'brewmesh-bench-order'),
  }
  let echo: EchoServer | undefined
  let workload: Workload | undefined
  try {
    await Promise.all([dbs.orders.connect(), dbs.loyalty.connect()])
    note(`mesh up (${MESH_SERVICES.map((s) => `${s} :${mesh.ports[s]} pid ${mesh.pids[s]}`).join(', ')}); ${settings.customers} customers`)
    const callers = await seedCallers(mesh.ports, issuer, {
      customers: settings.customers,
      rewardsEach: settings.rewardsEach,
      concurrency: settings.setupConcurrency,
      signal: interrupt.signal,
      onProgress: (done) => void (done % 100 === 0 && note(`  ${done} customers ready`)),
    })

    const tag = randomUUID().slice(0, 8)
    const orderBytes = await placeOneOrder(mesh.ports.order, callers[0]!, `${tag}-first`)
    const sampleEchoId = `${tag}-0:${callers[0]!.customerId}:${randomUUID()}`
    echo = await startEchoServer({ payloadBytes: echoPayloadFor(orderBytes, sampleEchoId) })
    note(`PlaceOrderResponse ${orderBytes} B; echo on :${echo.port} answers ${echoResponseBytes(sampleEchoId, echo.payloadBytes)} B`)

    workload = prepareWorkload(callers, {
      timeout: settings.timeout,
      streamsPerConnection: settings.streamsPerConnection,
      ghzCpus: settings.ghzCpus,
    })
    const unwarmed = { workload, ports: { echo: echo.port, order: mesh.ports.order }, dbs, tag, ...processGroups(mesh) }
    await warmup(unwarmed)
    const idle = await idleCost(unwarmed.groups)
    const rssBefore = servicesRss(unwarmed)
    // Quiet: back near idle. 10 ms ticks and a busy machine make one second's figure jump a little.
    const servicesIdle = totalCpuMs(Object.fromEntries(MESH_SERVICES.map((s) => [s, idle[s]])))
    const bench: Bench = { ...unwarmed, quietMsPerSecond: servicesIdle * 1.5 + 30 }
    const runs = await measureAll(bench)

    const machine = { ...machineInfo(), ghz: ghzVersion, clockTicks: clockTicks(), loadAtStart, loadAtEnd: loadNow() }
    const command = reproduceCommand('bench/place-order.bench.ts', SETTING_VARS)
    const saved = saveResults(datedFileName('place-order', startedAt), {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      settings,
      meshEnv: MESH_ENV,
      machine,
      infra: source,
      sizes: { placeOrderResponseBytes: orderBytes, echoPayloadBytes: echo.payloadBytes },
      idleCpuMsPerSecond: idle,
      rssBeforeMiB: rssBefore,
      quietMsPerSecond: bench.quietMsPerSecond,
      targets: TARGETS,
      verdicts: verdicts(runs),
      runs,
      command,
    })
    const machineLine = `${describeMachine(machine)}, ghz ${ghzVersion}; 1-minute load ${fmt(loadAtStart)} at the start, ${fmt(machine.loadAtEnd)} at the end`
    const workloadLine =
      `${settings.customers} customers; each call: a latte and the usual, the 1.00-off reward, a fresh request id, the caller's customer token. ` +
      `${settings.duration} per run, call timeout ${settings.timeout}, at most ${settings.streamsPerConnection} calls per connection, ` +
      `ghz --cpus ${settings.ghzCpus}; echo answers ${orderBytes} B like PlaceOrderResponse. PAYMENT_DELAY_MS=${settings.paymentDelayMs}.`
    const lines = summary(runs, {
      startedAt,
      workload: workloadLine,
      idle,
      rssBefore,
      machine: machineLine,
      command,
      saved: relative(REPO, saved),
    })
    process.stdout.write(lines.join('\n') + '\n')
  } catch (err) {
    if (!interrupt.signal.aborted)
      for (const service of MESH_SERVICES) note(`${service} wrote, last:\n${mesh.output(service).slice(-1500)}`)
    throw err
  } finally {
    workload?.remove()
    await echo?.stop()
    await Promise.all([dbs.orders.end().catch(() => undefined), dbs.loyalty.end().catch(() => undefined)])
    note('stopping the mesh; dropping its schemas, topics and keys')
    await mesh.stop()
  }
}

await runBench(main)
