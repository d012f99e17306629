/**
 * The edge's overhead on GetCustomer (cache hit): the same ghz load straight at the Customer
 * service and through the edge in front of it, alternating in the same run. A report, not a
 * test: it prints and saves the numbers and the ratios, and exits 0 whatever they are.
 *
 *   pnpm --filter @brewmesh/bench bench:edge
 *   BENCH_DURATION=10s pnpm exec node bench/edge-overhead.bench.ts
 *
 * Settings (environment): BENCH_DURATION (20s), BENCH_WARMUP (5s), BENCH_CONCURRENCY (50),
 * BENCH_ROUNDS (2), BENCH_GHZ_CPUS (1), BENCH_EDGE_PORT (18080).
 */
import { createServer } from 'node:net'
import { relative } from 'node:path'
import { credentials } from '@grpc/grpc-js'
import { CustomerServiceClient, type GetCustomerResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { migrateCustomer, startApp } from '@brewmesh/customer/src/app.ts'
import { readConfig } from '@brewmesh/customer/src/config.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import type { RunningService } from '@brewmesh/runtime/service'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { bearer, testIssuer } from '@brewmesh/testkit/tokens.ts'
import { reproduceCommand } from './lib/command.ts'
import { cpuTimeMs } from './lib/cpu-time.ts'
import { startEdgeProcess, type EdgeProcess } from './lib/edge.ts'
import { ensureGhz, forDuration, ghzCommandLine, PROTOSET, runGhz } from './lib/ghz.ts'
import { ensureInfra } from './lib/infra.ts'
import { note } from './lib/log.ts'
import { describeMachine, loadNow, machineInfo } from './lib/machine.ts'
import { fmt, markdownTable } from './lib/markdown.ts'
import { runBench } from './lib/main.ts'
import { REPO } from './lib/repo.ts'
import { saveResults } from './lib/results.ts'
import { median } from './lib/stats.ts'

const METHOD = 'brewmesh.customer.v1.CustomerService.GetCustomer'
const settings = {
  duration: process.env['BENCH_DURATION'] ?? '20s',
  warmup: process.env['BENCH_WARMUP'] ?? '5s',
  concurrency: Number(process.env['BENCH_CONCURRENCY'] ?? 50),
  rounds: Number(process.env['BENCH_ROUNDS'] ?? 2),
  ghzCpus: Number(process.env['BENCH_GHZ_CPUS'] ?? 1),
  edgePort: Number(process.env['BENCH_EDGE_PORT'] ?? 18080),
}
const SETTING_VARS = ['BENCH_DURATION', 'BENCH_WARMUP', 'BENCH_CONCURRENCY', 'BENCH_ROUNDS', 'BENCH_GHZ_CPUS', 'BENCH_EDGE_PORT']
type Target = 'direct' | 'edge'

/** The same ghz call for both: gRPC, one connection, the same token and customer. */
function ghzArgs(port: number, id: string, token: string, load: string[]): string[] {
  return [
    '--insecure',
    '--protoset',
    relative(REPO, PROTOSET),
    '--call',
    METHOD,
    '-d',
    JSON.stringify({ id }),
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

async function freeMetricsPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const { infra, source } = await ensureInfra()
  const ghzVersion = await ensureGhz()
  const issuer = await testIssuer()
  const token = await issuer.mint({ sub: 'bench', roles: ['support', 'operator'] }, { expiresIn: 3600 })
  const env = isolatedEnv('customer', infra, { ...issuer.env, LOG_LEVEL: 'silent' })
  const config = readConfig(env)
  note(`infra from ${source}; schema ${env['DB_SCHEMA']}; migrating`)
  await migrateCustomer(config, createLogger({ level: 'silent', service: 'bench', instanceId: 'bench' }))

  let app: RunningService | undefined
  let edge: EdgeProcess | undefined
  let client: CustomerServiceClient | undefined
  try {
    app = await startApp(config)
    client = new CustomerServiceClient(`127.0.0.1:${app.grpcPort}`, credentials.createInsecure(), { interceptors: [bearer(token)] })
    const c = client
    const tag = `${process.pid}${Date.now().toString(36)}`
    const created = await unary<{ customer?: { id: string } }>((cb) =>
      c.createCustomer(
        {
          requestId: '',
          username: `edge_bench_${tag}`,
          displayName: 'Bench',
          firstName: 'Ada',
          lastName: 'Lovelace',
          email: `edge.bench.${tag}@example.com`,
          phone: '',
          preferences: undefined,
          dietaryRestrictions: [],
          householdId: '',
        },
        cb,
      ),
    )
    const id = created.customer!.id
    await unary<GetCustomerResponse>((cb) => c.getCustomer({ id }, cb)) // fills the cache

    // The edge in its own process, only the Customer upstream up (the others fail only their
    // routes), its per-client rate limit off: ghz is one client address.
    edge = await startEdgeProcess(settings.edgePort, {
      ...issuer.env,
      LOG_LEVEL: 'silent',
      METRICS_PORT: String(await freeMetricsPort()),
      CUSTOMER_SERVICE_ADDR: `127.0.0.1:${app.grpcPort}`,
      EDGE_RATE_LIMIT_PER_SECOND: '0',
    })
    const ports: Record<Target, number> = { direct: app.grpcPort, edge: edge.port }
    const argsFor = (target: Target, load: string[]) => ghzArgs(ports[target], id, token, load)
    note(`customer on :${ports.direct}, the edge on :${ports.edge} (pid ${edge.pid}); warmup ${settings.warmup} each`)
    for (const target of ['direct', 'edge'] as const) await runGhz(argsFor(target, forDuration(settings.warmup)))

    // CPU per call of each process: unlike rps and latency it does not depend on how much of the
    // machine other work takes, so it shows what the edge costs even on a busy box.
    const cpuOf = (pid: number) => cpuTimeMs(pid) ?? Number.NaN
    const runs: {
      target: Target
      round: number
      rps: number
      p50Ms: number
      p99Ms: number
      errors: number
      loadBefore: number
      customerCpuMsPerCall: number
      edgeCpuMsPerCall: number
    }[] = []
    for (let round = 1; round <= settings.rounds; round++) {
      for (const target of ['direct', 'edge'] as const) {
        const loadBefore = loadNow()
        const cpuBefore = { customer: cpuOf(process.pid), edge: cpuOf(edge.pid) }
        const r = await runGhz(argsFor(target, forDuration(settings.duration)))
        const perCall = (ms: number) => ms / Math.max(1, r.count)
        runs.push({
          target,
          round,
          rps: r.rps,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          errors: r.errors,
          loadBefore,
          customerCpuMsPerCall: perCall(cpuOf(process.pid) - cpuBefore.customer),
          edgeCpuMsPerCall: perCall(cpuOf(edge.pid) - cpuBefore.edge),
        })
        note(
          `round ${round} ${target.padEnd(6)} ${fmt(r.rps, 0)} rps  p50 ${fmt(r.p50Ms)} ms  p99 ${fmt(r.p99Ms)} ms  (${r.errors} failed, load ${fmt(loadBefore)})`,
        )
        if (r.errors > 0) note(`  errors: ${r.errorSamples.join(' | ')}`)
      }
    }
    const of = (target: Target) => {
      const mine = runs.filter((r) => r.target === target)
      return {
        rps: median(mine.map((r) => r.rps)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        errors: mine.reduce((sum, r) => sum + r.errors, 0),
        customerCpuMsPerCall: median(mine.map((r) => r.customerCpuMsPerCall)),
        edgeCpuMsPerCall: median(mine.map((r) => r.edgeCpuMsPerCall)),
      }
    }
    const direct = of('direct')
    const viaEdge = of('edge')
    const ratios = {
      throughput: viaEdge.rps / direct.rps,
      p50: viaEdge.p50Ms / direct.p50Ms,
      p99: viaEdge.p99Ms / direct.p99Ms,
      // The whole path's CPU per call through the edge against the service's alone.
      cpuPerCall: (viaEdge.edgeCpuMsPerCall + viaEdge.customerCpuMsPerCall) / direct.customerCpuMsPerCall,
    }
    const machine = { ...machineInfo(), ghz: ghzVersion }
    const command = reproduceCommand('bench/edge-overhead.bench.ts', SETTING_VARS)
    const saved = saveResults('edge-overhead.json', {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      settings,
      machine,
      infra: source,
      runs,
      direct,
      edge: viaEdge,
      ratios,
      command,
      ghzCommands: {
        direct: ghzCommandLine(argsFor('direct', forDuration(settings.duration))),
        edge: ghzCommandLine(argsFor('edge', forDuration(settings.duration))),
      },
    })
    const row = (name: string, s: typeof direct, edgeCpu: string) => [
      name,
      fmt(s.rps, 0),
      fmt(s.p50Ms),
      fmt(s.p99Ms),
      fmt(s.customerCpuMsPerCall, 3),
      edgeCpu,
      String(s.errors),
    ]
    const lines = [
      `## GetCustomer through the edge vs direct (${startedAt.toISOString().slice(0, 10)})`,
      '',
      `Median of ${settings.rounds} alternating runs per target, ${settings.duration} each after a ${settings.warmup} warmup, ` +
        `concurrency ${settings.concurrency} over 1 gRPC connection, ghz ${ghzVersion} with --cpus ${settings.ghzCpus}.`,
      '',
      ...markdownTable(
        [
          'target',
          { title: 'rps', align: 'right' },
          { title: 'p50 ms', align: 'right' },
          { title: 'p99 ms', align: 'right' },
          { title: 'customer CPU ms/call', align: 'right' },
          { title: 'edge CPU ms/call', align: 'right' },
          { title: 'failed', align: 'right' },
        ],
        [row('direct: ghz -> customer', direct, '-'), row('edge: ghz -> edge -> customer', viaEdge, fmt(viaEdge.edgeCpuMsPerCall, 3))],
      ),
      '',
      ...markdownTable(
        ['edge / direct', { title: 'ratio', align: 'right' }],
        [
          ['throughput', `${fmt(ratios.throughput)}x`],
          ['p50 latency', `${fmt(ratios.p50)}x`],
          ['p99 latency', `${fmt(ratios.p99)}x`],
          ['CPU per call (edge + customer) / customer', `${fmt(ratios.cpuPerCall)}x`],
        ],
      ),
      '',
      `Machine: ${describeMachine(machine)}. ghz, the customer service (in this process), the edge (its own process), Valkey, PostgreSQL and Kafka share these cores.`,
      '',
      `Reproduce: \`${command}\``,
      '',
      `Saved: ${relative(REPO, saved)}.`,
    ]
    process.stdout.write(lines.join('\n') + '\n')
  } finally {
    client?.close()
    await edge?.stop()
    await app?.stop()
    await dropSchema(env).catch((err: unknown) => note(`could not drop schema ${env['DB_SCHEMA']}: ${(err as Error).message}`))
  }
}

await runBench(main)
