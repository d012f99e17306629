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
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { credentials } from '@grpc/grpc-js'
import {
  CustomerServiceClient,
  GetCustomerResponse,
  type CreateCustomerRequest,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { migrateCustomer, startApp, type App } from '@brewmesh/customer/src/app.ts'
import { readConfig } from '@brewmesh/customer/src/config.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { bearer, testIssuer } from '@brewmesh/testkit/tokens.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import type { InfraEnv } from '@brewmesh/testkit/infra.ts'
import { ECHO_METHOD, ECHO_PROTO, startEchoServer, type EchoServer } from './echo/echo-server.ts'

const REPO = join(import.meta.dirname, '..')
const GHZ = join(REPO, '.stack/bin/ghz')
const PROTOSET = join(REPO, 'gen/descriptors.binpb')
const CUSTOMER_METHOD = 'brewmesh.customer.v1.CustomerService.GetCustomer'
const RESULTS = join(import.meta.dirname, 'results', 'customer-get.json')
const TARGETS = { throughput: 0.7, p99: 1.5 } // customer/echo: rps at least 0.7x, p99 at most 1.5x

const settings = {
  duration: process.env['BENCH_DURATION'] ?? '20s',
  total: process.env['BENCH_TOTAL'] ? Number(process.env['BENCH_TOTAL']) : undefined,
  warmup: process.env['BENCH_WARMUP'] ?? '5s',
  concurrency: Number(process.env['BENCH_CONCURRENCY'] ?? 50),
  rounds: Number(process.env['BENCH_ROUNDS'] ?? 2),
  ghzCpus: Number(process.env['BENCH_GHZ_CPUS'] ?? 1),
}

const note = (message: string) => process.stderr.write(`[bench] ${message}\n`)
const run = promisify(execFile)

// ------------------------------------------------------------------ setup ----

function infraFrom(env: Readonly<Record<string, string | undefined>>): InfraEnv | undefined {
  if (!env['DB_HOST'] || !env['VALKEY_HOST'] || !env['KAFKA_BROKERS']) return undefined
  return {
    DB_HOST: env['DB_HOST'],
    DB_PORT: env['DB_PORT'] ?? '5432',
    DB_USER: env['DB_USER'] ?? 'brewmesh',
    DB_PASSWORD: env['DB_PASSWORD'] ?? 'brewmesh',
    VALKEY_HOST: env['VALKEY_HOST'],
    VALKEY_PORT: env['VALKEY_PORT'] ?? '6379',
    KAFKA_BROKERS: env['KAFKA_BROKERS'],
  }
}

function inherit(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: REPO, stdio: ['ignore', process.stderr, process.stderr] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited with ${code}`))))
  })
}

/** The servers from the environment; without DB_HOST, `scripts/stack.sh up` and its .stack/env. */
async function ensureInfra(): Promise<{ infra: InfraEnv; source: string }> {
  if (process.env['DB_HOST']) {
    const infra = infraFrom(process.env)
    if (!infra) throw new Error('DB_HOST is set but VALKEY_HOST or KAFKA_BROKERS is not: set all, or none to use scripts/stack.sh')
    return { infra, source: 'environment' }
  }
  note('DB_HOST is not set: bash scripts/stack.sh up')
  await inherit('bash', ['scripts/stack.sh', 'up'])
  const env: Record<string, string> = {}
  for (const line of readFileSync(join(REPO, '.stack/env'), 'utf8').split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line)
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2].replace(/^'(.*)'$/, '$1')
  }
  const infra = infraFrom(env)
  if (!infra) throw new Error('scripts/stack.sh up wrote no usable .stack/env')
  return { infra, source: 'scripts/stack.sh (.stack/env)' }
}

async function ensureGhz(): Promise<string> {
  if (!existsSync(GHZ)) {
    note('no .stack/bin/ghz: bash scripts/tools.sh')
    await inherit('bash', ['scripts/tools.sh'])
  }
  const { stdout, stderr } = await run(GHZ, ['--version'])
  return (stdout || stderr).trim()
}

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

/** Bytes of a varint-length-prefixed field's header: tag (1 byte here) + length. */
const fieldHeader = (length: number) => 1 + (length < 128 ? 1 : length < 16_384 ? 2 : 3)

/** Echo payload size that makes EchoResponse{id, payload} as long as the GetCustomerResponse. */
function echoPayloadFor(customerBytes: number, id: string): number {
  const idField = fieldHeader(id.length) + id.length
  let payload = Math.max(0, customerBytes - idField - 2)
  while (payload > 0 && idField + fieldHeader(payload) + payload > customerBytes) payload -= 1
  return payload
}

// -------------------------------------------------------------------- ghz ----

interface GhzReport {
  count: number
  total: number
  average: number
  rps: number
  latencyDistribution: { percentage: number; latency: number }[] | null
  statusCodeDistribution: Record<string, number> | null
  errorDistribution: Record<string, number> | null
}

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

let bearerToken = ''

function ghzArgs(target: Target, port: number, id: string, load: string[]): string[] {
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
    JSON.stringify({ authorization: `Bearer ${bearerToken}` }),
    '--concurrency',
    String(settings.concurrency),
    ...load,
    '--connections',
    '1',
    '--cpus',
    String(settings.ghzCpus),
    '--disable-template-functions',
    '--disable-template-data',
    '-O',
    'json',
    `127.0.0.1:${port}`,
  ]
}

// --duration-stop ignore: calls still in flight when the time is up are left out, not counted as
// failures (the default, close, reports each of them as UNAVAILABLE "use of closed network connection").
const forDuration = (duration: string) => ['--duration', duration, '--duration-stop', 'ignore']
const measuredLoad = () => (settings.total ? ['--total', String(settings.total)] : forDuration(settings.duration))
const ms = (ns: number) => ns / 1e6

function percentile(report: GhzReport, percentage: number): number {
  const found = report.latencyDistribution?.find((d) => d.percentage === percentage)
  return found ? ms(found.latency) : Number.NaN
}

async function ghz(args: string[], scratch: string): Promise<GhzReport> {
  const out = join(scratch, 'ghz.json')
  rmSync(out, { force: true })
  await run(GHZ, [...args, '-o', out], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 })
  // The report lists every request under "details"; only the summary is kept.
  const { details: _details, ...report } = JSON.parse(readFileSync(out, 'utf8')) as GhzReport & { details?: unknown }
  return report
}

async function measure(target: Target, round: number, port: number, id: string, scratch: string): Promise<Run> {
  const loadBefore = loadavg()[0] ?? 0
  const report = await ghz(ghzArgs(target, port, id, measuredLoad()), scratch)
  const ok = report.statusCodeDistribution?.['OK'] ?? 0
  const errors = Object.entries(report.statusCodeDistribution ?? {}).reduce((sum, [code, n]) => sum + (code === 'OK' ? 0 : n), 0)
  const result: Run = {
    target,
    round,
    rps: report.rps,
    p50Ms: percentile(report, 50),
    p99Ms: percentile(report, 99),
    avgMs: ms(report.average),
    count: report.count,
    errors,
    errorSamples: Object.keys(report.errorDistribution ?? {}).slice(0, 3),
    loadBefore,
  }
  note(
    `round ${round} ${target.padEnd(8)} ${fmt(result.rps, 0)} rps  p50 ${fmt(result.p50Ms)} ms  p99 ${fmt(result.p99Ms)} ms  (${ok} ok, ${errors} failed, load ${fmt(loadBefore)} before)`,
  )
  if (errors > 0) note(`  ${target} errors: ${result.errorSamples.join(' | ')}`)
  return result
}

// ---------------------------------------------------------------- report ----

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')

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

/** Quotes one argument for a POSIX shell, so the saved command lines can be pasted as they are. */
const shellQuote = (arg: string) => (/^[\w./:=@,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)

function reproduceCommand(): string {
  const vars = ['BENCH_DURATION', 'BENCH_TOTAL', 'BENCH_WARMUP', 'BENCH_CONCURRENCY', 'BENCH_ROUNDS', 'BENCH_GHZ_CPUS']
    .filter((k) => process.env[k] !== undefined)
    .map((k) => shellQuote(`${k}=${process.env[k]}`))
  return ['cd', REPO, '&&', ...vars, 'pnpm exec node bench/customer-get.bench.ts'].join(' ')
}

// ------------------------------------------------------------------- main ----

async function main(): Promise<void> {
  const startedAt = new Date()
  const { infra, source } = await ensureInfra()
  const ghzVersion = await ensureGhz()

  const issuer = await testIssuer()
  bearerToken = await issuer.mint({ sub: 'bench', roles: ['support', 'operator'] }, { expiresIn: 3600 })
  const env = isolatedEnv('customer', infra, { ...issuer.env, LOG_LEVEL: 'silent', HEALTH_INTERVAL_MS: '2000' })
  const config = readConfig(env)
  note(`infra from ${source}; schema ${env['DB_SCHEMA']}; migrating`)
  await migrateCustomer(config, createLogger({ level: 'silent', service: 'bench', instanceId: 'bench' }))

  let app: App | undefined
  let echo: EchoServer | undefined
  let client: CustomerServiceClient | undefined
  const scratch = mkdtempSync(join(tmpdir(), 'brewmesh-bench-'))
  try {
    app = await startApp(config)
    const feed = await Promise.race([app.feedReady.then(() => 'ready'), new Promise((r) => setTimeout(r, 30_000, 'not ready').unref())])
    if (feed !== 'ready') note('the customer event feed did not join its group within 30 s; measuring anyway')
    client = new CustomerServiceClient(`127.0.0.1:${app.grpcPort}`, credentials.createInsecure(), { interceptors: [bearer(bearerToken)] })
    const c = client

    // One customer; the first GetCustomer misses and fills Valkey, the second is a cache hit.
    const created = await unary<{ customer?: { id: string } }>((cb) => c.createCustomer(customerRequest(), cb))
    const id = created.customer!.id
    await unary<GetCustomerResponse>((cb) => c.getCustomer({ id }, cb))
    const response = await unary<GetCustomerResponse>((cb) => c.getCustomer({ id }, cb))
    const customerBytes = GetCustomerResponse.encode(response).finish().length

    echo = await startEchoServer({ payloadBytes: echoPayloadFor(customerBytes, id) })
    const echoBytes = fieldHeader(id.length) + id.length + fieldHeader(echo.payloadBytes) + echo.payloadBytes
    const ports: Record<Target, number> = { echo: echo.port, customer: app.grpcPort }
    note(`customer on :${ports.customer} (GetCustomerResponse ${customerBytes} B), echo on :${ports.echo} (EchoResponse ${echoBytes} B)`)

    const load = settings.total ? `${settings.total} requests` : settings.duration
    note(`warmup ${settings.warmup} each, then ${settings.rounds} rounds of echo/customer at ${load}, concurrency ${settings.concurrency}`)
    for (const target of ['echo', 'customer'] as const) await ghz(ghzArgs(target, ports[target], id, forDuration(settings.warmup)), scratch)

    const runs: Run[] = []
    for (let round = 1; round <= settings.rounds; round++) {
      for (const target of ['echo', 'customer'] as const) runs.push(await measure(target, round, ports[target], id, scratch))
    }

    const result = {
      echo: summarize(runs, 'echo'),
      customer: summarize(runs, 'customer'),
    }
    const ratios = {
      throughput: result.customer.rps / result.echo.rps,
      p99: result.customer.p99Ms / result.echo.p99Ms,
    }
    const machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
      ghz: ghzVersion,
    }
    const command = reproduceCommand()
    const ghzCommands = {
      echo: ['.stack/bin/ghz', ...ghzArgs('echo', ports.echo, id, measuredLoad())].map(shellQuote).join(' '),
      customer: ['.stack/bin/ghz', ...ghzArgs('customer', ports.customer, id, measuredLoad())].map(shellQuote).join(' '),
    }

    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true })
    const saved = {
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
    }
    writeFileSync(RESULTS, JSON.stringify(saved, null, 2) + '\n')

    const verdict = (ok: boolean) => (ok ? 'meets' : 'misses')
    const lines = [
      `## Customer GetCustomer vs bare grpc-js echo (${startedAt.toISOString().slice(0, 10)})`,
      '',
      `Median of ${settings.rounds} alternating runs per target, ${load} each after a ${settings.warmup} warmup, ` +
        `concurrency ${settings.concurrency} over 1 connection, ghz ${ghzVersion} with --cpus ${settings.ghzCpus}.`,
      '',
      '| target | rps | p50 ms | p99 ms | runs (rps) | failed |',
      '| --- | ---: | ---: | ---: | --- | ---: |',
      ...(['echo', 'customer'] as const).map((t) => {
        const s = result[t]
        const name =
          t === 'echo' ? `echo (bare grpc-js, ${echoBytes} B response)` : `customer GetCustomer (cache hit, ${customerBytes} B response)`
        return `| ${name} | ${fmt(s.rps, 0)} | ${fmt(s.p50Ms)} | ${fmt(s.p99Ms)} | ${s.runs.map((r) => fmt(r.rps, 0)).join(', ')} | ${s.errors} |`
      }),
      '',
      '| customer / echo | ratio | target | |',
      '| --- | ---: | ---: | --- |',
      `| throughput | ${fmt(ratios.throughput)}x | >= ${TARGETS.throughput}x | ${verdict(saved.meetsTargets.throughput)} |`,
      `| p99 latency | ${fmt(ratios.p99)}x | <= ${TARGETS.p99}x | ${verdict(saved.meetsTargets.p99)} |`,
      '',
      `Machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}. ` +
        `ghz is a separate process: on this ${machine.cpus}-core box the service (one Node event loop) gets about one core and ghz the other, ` +
        'while Valkey, PostgreSQL and Kafka share the same cores (GetCustomer does one Valkey GET per call). ' +
        'Both servers run in this process without the OpenTelemetry preload (`--import .../telemetry/register.ts`) that `pnpm start` adds.',
      '',
      `Reproduce: \`${command}\``,
      '',
      `Saved: ${relative(REPO, RESULTS)} (with the exact ghz command lines).`,
    ]
    process.stdout.write(lines.join('\n') + '\n')
  } finally {
    client?.close()
    await echo?.stop()
    await app?.stop()
    await dropSchema(env).catch((err: unknown) => note(`could not drop schema ${env['DB_SCHEMA']}: ${(err as Error).message}`))
    rmSync(scratch, { recursive: true, force: true })
  }
}

try {
  await main()
  // Everything is stopped; if some handle still keeps the loop alive, say so and leave anyway.
  setTimeout(() => {
    note('something still holds the event loop after app.stop(); exiting')
    process.exit(0)
  }, 10_000).unref()
} catch (err) {
  note(`failed: ${(err as Error).stack ?? String(err)}`)
  process.exit(1)
}
