/**
 * GetCustomer (cache hit) on the Customer service against a bare grpc-js echo server, both in
 * this process, both driven by ghz with the same settings. A report, not a test: it prints and
 * saves the numbers and the ratios against the targets, and exits 0 whatever they are.
 *
 *   pnpm --filter @brewmesh/bench bench:customer
 *   BENCH_DURATION=10s pnpm exec node bench/customer-get.bench.ts
 *
 * Settings (environment): BENCH_DURATION (20s), BENCH_TOTAL (a request count instead of a
 * duration), BENCH_WARMUP (5s), BENCH_CONCURRENCY (50), BENCH_ROUNDS (2), BENCH_GHZ_CPUS (1).
 */
import { relative } from 'node:path'
import { credentials } from '@grpc/grpc-js'
import {
  CustomerServiceClient,
  GetCustomerResponse,
  type CreateCustomerRequest,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { migrateCustomer, startApp } from '@brewmesh/customer/src/app.ts'
import { readConfig } from '@brewmesh/customer/src/config.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import type { RunningService } from '@brewmesh/runtime/service'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { bearer, testIssuer } from '@brewmesh/testkit/tokens.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { echoPayloadFor, echoResponseBytes } from './echo/echo-size.ts'
import { ECHO_METHOD, ECHO_PROTO, startEchoServer, type EchoServer } from './echo/echo-server.ts'
import { reproduceCommand } from './lib/command.ts'
import { ensureGhz, forDuration, ghzCommandLine, PROTOSET, runGhz } from './lib/ghz.ts'
import { ensureInfra } from './lib/infra.ts'
import { note } from './lib/log.ts'
import { describeMachine, loadNow, machineInfo } from './lib/machine.ts'
import { fmt, markdownTable } from './lib/markdown.ts'
import { runBench } from './lib/main.ts'
import { REPO } from './lib/repo.ts'
import { saveResults } from './lib/results.ts'
import { median } from './lib/stats.ts'

const CUSTOMER_METHOD = 'brewmesh.customer.v1.CustomerService.GetCustomer'
const RESULTS_FILE = 'customer-get.json'
const TARGETS = { throughput: 0.7, p99: 1.5 } // customer/echo: rps at least 0.7x, p99 at most 1.5x

const settings = {
  duration: process.env['BENCH_DURATION'] ?? '20s',
  total: process.env['BENCH_TOTAL'] ? Number(process.env['BENCH_TOTAL']) : undefined,
  warmup: process.env['BENCH_WARMUP'] ?? '5s',
  concurrency: Number(process.env['BENCH_CONCURRENCY'] ?? 50),
  rounds: Number(process.env['BENCH_ROUNDS'] ?? 2),
  ghzCpus: Number(process.env['BENCH_GHZ_CPUS'] ?? 1),
}
const SETTING_VARS = ['BENCH_DURATION', 'BENCH_TOTAL', 'BENCH_WARMUP', 'BENCH_CONCURRENCY', 'BENCH_ROUNDS', 'BENCH_GHZ_CPUS']

// ------------------------------------------------------------------ setup ----

function customerRequest(): CreateCustomerRequest {
  const tag = `${process.pid}${Date.now().toString(36)}`
  return {
    requestId: '',
    username: `bench_${tag}`,
    displayName: 'Bench Member',
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `bench.${tag}@example.com`,
    phone: '+14155550123',
    preferences: undefined,
    dietaryRestrictions: [],
    householdId: '',
  }
}

// -------------------------------------------------------------------- ghz ----

interface Run {
  target: Target
  round: number
  rps: number
  p50Ms: number
  p99Ms: number
  avgMs: number
  count: number
  errors: number
  errorSamples: string[]
  /** 1-minute load average when the run began: other work on the machine shows up here. */
  loadBefore: number
}

type Target = 'echo' | 'customer'

function ghzArgs(target: Target, port: number, id: string, token: string, load: string[]): string[] {
  const what =
    target === 'echo'
      ? ['--proto', relative(REPO, ECHO_PROTO), '--call', ECHO_METHOD]
      : ['--protoset', relative(REPO, PROTOSET), '--call', CUSTOMER_METHOD]
  return [
    '--insecure',
    ...what,
    '-d',
    JSON.stringify({ id }),
    // Both carry the same token header; only the service verifies it (cached after the first call).
    '--metadata',
    JSON.stringify({ authorization: `Bearer ${token}` }),
    '--concurrency',
    String(settings.concurrency),
    ...load,
    '--connections',
    '1',
    '--cpus',
    String(settings.ghzCpus),
    '--disable-template-functions',
    '--disable-template-data',
    `127.0.0.1:${port}`,
  ]
}

const measuredLoad = () => (settings.total ? ['--total', String(settings.total)] : forDuration(settings.duration))

async function measure(target: Target, round: number, args: string[]): Promise<Run> {
  const loadBefore = loadNow()
  const report = await runGhz(args)
  const result: Run = {
    target,
    round,
    rps: report.rps,
    p50Ms: report.p50Ms,
    p99Ms: report.p99Ms,
    avgMs: report.avgMs,
    count: report.count,
    errors: report.errors,
    errorSamples: report.errorSamples,
    loadBefore,
  }
  note(
    `round ${round} ${target.padEnd(8)} ${fmt(result.rps, 0)} rps  p50 ${fmt(result.p50Ms)} ms  p99 ${fmt(result.p99Ms)} ms  (${report.ok} ok, ${report.errors} failed, load ${fmt(loadBefore)} before)`,
  )
  if (report.errors > 0) note(`  ${target} errors: ${result.errorSamples.join(' | ')}`)
  return result
}

// ---------------------------------------------------------------- report ----

function summarize(runs: Run[], target: Target) {
  const mine = runs.filter((r) => r.target === target)
  return {
    rps: median(mine.map((r) => r.rps)),
    p50Ms: median(mine.map((r) => r.p50Ms)),
    p99Ms: median(mine.map((r) => r.p99Ms)),
    errors: mine.reduce((sum, r) => sum + r.errors, 0),
    runs: mine,
  }
}

const verdict = (ok: boolean) => (ok ? 'meets' : 'misses')

function report(
  startedAt: Date,
  result: Record<Target, ReturnType<typeof summarize>>,
  ratios: { throughput: number; p99: number },
  sizes: { customerBytes: number; echoBytes: number },
  context: { ghzVersion: string; machine: ReturnType<typeof machineInfo>; command: string; saved: string },
): string[] {
  const { machine } = context
  const load = settings.total ? `${settings.total} requests` : settings.duration
  const rows = (['echo', 'customer'] as const).map((t) => {
    const s = result[t]
    const name =
      t === 'echo'
        ? `echo (bare grpc-js, ${sizes.echoBytes} B response)`
        : `customer GetCustomer (cache hit, ${sizes.customerBytes} B response)`
    return [name, fmt(s.rps, 0), fmt(s.p50Ms), fmt(s.p99Ms), s.runs.map((r) => fmt(r.rps, 0)).join(', '), String(s.errors)]
  })
  return [
    `## Customer GetCustomer vs bare grpc-js echo (${startedAt.toISOString().slice(0, 10)})`,
    '',
    `Median of ${settings.rounds} alternating runs per target, ${load} each after a ${settings.warmup} warmup, ` +
      `concurrency ${settings.concurrency} over 1 connection, ghz ${context.ghzVersion} with --cpus ${settings.ghzCpus}.`,
    '',
    ...markdownTable(
      [
        'target',
        { title: 'rps', align: 'right' },
        { title: 'p50 ms', align: 'right' },
        { title: 'p99 ms', align: 'right' },
        'runs (rps)',
        { title: 'failed', align: 'right' },
      ],
      rows,
    ),
    '',
    ...markdownTable(
      ['customer / echo', { title: 'ratio', align: 'right' }, { title: 'target', align: 'right' }, ''],
      [
        ['throughput', `${fmt(ratios.throughput)}x`, `>= ${TARGETS.throughput}x`, verdict(ratios.throughput >= TARGETS.throughput)],
        ['p99 latency', `${fmt(ratios.p99)}x`, `<= ${TARGETS.p99}x`, verdict(ratios.p99 <= TARGETS.p99)],
      ],
    ),
    '',
    `Machine: ${describeMachine(machine)}. ` +
      `ghz is a separate process: on this ${machine.cpus}-core box the service (one Node event loop) gets about one core and ghz the other, ` +
      'while Valkey, PostgreSQL and Kafka share the same cores (GetCustomer does one Valkey GET per call). ' +
      'Both servers run in this process without the OpenTelemetry preload (`--import .../telemetry/register.ts`) that `pnpm start` adds.',
    '',
    `Reproduce: \`${context.command}\``,
    '',
    `Saved: ${relative(REPO, context.saved)} (with the exact ghz command lines).`,
  ]
}

// ------------------------------------------------------------------- main ----

async function main(): Promise<void> {
  const startedAt = new Date()
  const { infra, source } = await ensureInfra()
  const ghzVersion = await ensureGhz()

  const issuer = await testIssuer()
  const token = await issuer.mint({ sub: 'bench', roles: ['support', 'operator'] }, { expiresIn: 3600 })
  const env = isolatedEnv('customer', infra, { ...issuer.env, LOG_LEVEL: 'silent', HEALTH_INTERVAL_MS: '2000' })
  const config = readConfig(env)
  note(`infra from ${source}; schema ${env['DB_SCHEMA']}; migrating`)
  await migrateCustomer(config, createLogger({ level: 'silent', service: 'bench', instanceId: 'bench' }))

  let app: RunningService | undefined
  let echo: EchoServer | undefined
  let client: CustomerServiceClient | undefined
  try {
    app = await startApp(config)
    const feed = await Promise.race([app.ready.then(() => 'ready'), new Promise((r) => setTimeout(r, 30_000, 'not ready').unref())])
    if (feed !== 'ready') note('the customer event feed did not join its group within 30 s; measuring anyway')
    client = new CustomerServiceClient(`127.0.0.1:${app.grpcPort}`, credentials.createInsecure(), { interceptors: [bearer(token)] })
    const c = client

    // One customer; the first GetCustomer misses and fills Valkey, the second is a cache hit.
    const created = await unary<{ customer?: { id: string } }>((cb) => c.createCustomer(customerRequest(), cb))
    const id = created.customer!.id
    await unary<GetCustomerResponse>((cb) => c.getCustomer({ id }, cb))
    const response = await unary<GetCustomerResponse>((cb) => c.getCustomer({ id }, cb))
    const customerBytes = GetCustomerResponse.encode(response).finish().length

    echo = await startEchoServer({ payloadBytes: echoPayloadFor(customerBytes, id) })
    const echoBytes = echoResponseBytes(id, echo.payloadBytes)
    const ports: Record<Target, number> = { echo: echo.port, customer: app.grpcPort }
    note(`customer on :${ports.customer} (GetCustomerResponse ${customerBytes} B), echo on :${ports.echo} (EchoResponse ${echoBytes} B)`)
    const argsFor = (target: Target, load: string[]) => ghzArgs(target, ports[target], id, token, load)

    const load = settings.total ? `${settings.total} requests` : settings.duration
    note(`warmup ${settings.warmup} each, then ${settings.rounds} rounds of echo/customer at ${load}, concurrency ${settings.concurrency}`)
    for (const target of ['echo', 'customer'] as const) await runGhz(argsFor(target, forDuration(settings.warmup)))

    const runs: Run[] = []
    for (let round = 1; round <= settings.rounds; round++) {
      for (const target of ['echo', 'customer'] as const) runs.push(await measure(target, round, argsFor(target, measuredLoad())))
    }

    const result = {
      echo: summarize(runs, 'echo'),
      customer: summarize(runs, 'customer'),
    }
    const ratios = {
      throughput: result.customer.rps / result.echo.rps,
      p99: result.customer.p99Ms / result.echo.p99Ms,
    }
    const machine = { ...machineInfo(), ghz: ghzVersion }
    const command = reproduceCommand('bench/customer-get.bench.ts', SETTING_VARS)
    const ghzCommands = {
      echo: ghzCommandLine(argsFor('echo', measuredLoad())),
      customer: ghzCommandLine(argsFor('customer', measuredLoad())),
    }
    const saved = saveResults(RESULTS_FILE, {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      settings,
      machine,
      infra: source,
      sizes: { getCustomerResponseBytes: customerBytes, echoResponseBytes: echoBytes },
      targets: TARGETS,
      ratios,
      meetsTargets: { throughput: ratios.throughput >= TARGETS.throughput, p99: ratios.p99 <= TARGETS.p99 },
      echo: result.echo,
      customer: result.customer,
      command,
      ghzCommands,
    })
    const lines = report(startedAt, result, ratios, { customerBytes, echoBytes }, { ghzVersion, machine, command, saved })
    process.stdout.write(lines.join('\n') + '\n')
  } finally {
    client?.close()
    await echo?.stop()
    await app?.stop()
    await dropSchema(env).catch((err: unknown) => note(`could not drop schema ${env['DB_SCHEMA']}: ${(err as Error).message}`))
  }
}

await runBench(main)
