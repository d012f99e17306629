/**
 * Each service as a process, as deployed (its bundle, dist/main.mjs, with the telemetry preload: scripts/bundle.ts): how long from
 * spawn to SERVING, how much memory it holds idle, how long a graceful stop takes when idle.
 * Next to the same figures for the bare grpc-js echo server as a process (bench/echo), in the
 * same run. A report, not a test: it prints and saves the numbers and exits 0 whatever they are.
 *
 *   pnpm exec node bench/service-lifecycle.bench.ts
 *
 * Settings (environment): BENCH_LIFECYCLE_ROUNDS (3 starts per service), BENCH_LIFECYCLE_IDLE_S
 * (10: seconds between SERVING and reading the resident set), BENCH_LIFECYCLE_SERVICES (all four).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { credentials, Metadata, status } from '@grpc/grpc-js'
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '@brewmesh/gen/grpc/health/v1/health.ts'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { freePort } from '@brewmesh/testkit/infra.ts'
import { MESH_SERVICES } from '@brewmesh/testkit/mesh.ts'
import { migrateProcess } from '@brewmesh/testkit/processes.ts'
import { testIssuer } from '@brewmesh/testkit/tokens.ts'
import { ensureBundled, MAIN, PRELOAD } from '../scripts/bundle.ts'
import { reproduceCommand } from './lib/command.ts'
import { ensureInfra } from './lib/infra.ts'
import { rssMiB } from './lib/memory.ts'
import { note } from './lib/log.ts'
import { describeMachine, loadNow, machineInfo } from './lib/machine.ts'
import { fmt, markdownTable } from './lib/markdown.ts'
import { runBench } from './lib/main.ts'
import { REPO } from './lib/repo.ts'
import { saveResults } from './lib/results.ts'
import { median } from './lib/stats.ts'

const ROUNDS = Number(process.env['BENCH_LIFECYCLE_ROUNDS'] ?? 3)
const IDLE_MS = Number(process.env['BENCH_LIFECYCLE_IDLE_S'] ?? 10) * 1000
const SERVICES = (process.env['BENCH_LIFECYCLE_SERVICES']?.split(',') ?? [...MESH_SERVICES]).filter(Boolean)
const TARGETS = { startMs: 1200, rssMiB: 150, stopMs: 2000 }

interface Round {
  startMs: number
  rssMiB: number
  stopMs: number
  exitCode: number | null
}

/** Polls grpc.health.v1 every 10 ms (the echo server has no health service: any answer counts). */
async function untilAnswering(port: number, child: ChildProcess, anyAnswer: boolean): Promise<void> {
  // grpc-js waits out a reconnect backoff (1 s at first) after a refused connection: a short one,
  // or a start would be measured in whole seconds of waiting to retry.
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 10,
    'grpc.max_reconnect_backoff_ms': 20,
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before answering`)
      const answer = await new Promise<'serving' | 'other' | 'down'>((resolve) =>
        client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 500 }, (err, r) => {
          if (!err) resolve(r?.status === Serving.SERVING ? 'serving' : 'other')
          // UNIMPLEMENTED: a server is there, without a health service.
          else resolve(err.code === status.UNIMPLEMENTED ? 'other' : 'down')
        }),
      )
      if (answer === 'serving' || (anyAnswer && answer === 'other')) return
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  } finally {
    client.close()
  }
}

async function measure(args: string[], cwd: string, env: Record<string, string>, port: number, anyAnswer: boolean): Promise<Round> {
  const started = performance.now()
  // CPU_PROFILE_DIR: each process writes a V8 CPU profile of its round when it exits (bench/profile-summary.ts).
  const profile = process.env['CPU_PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['CPU_PROFILE_DIR']}`] : []
  const child = spawn(process.execPath, [...profile, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    await untilAnswering(port, child, anyAnswer)
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err })
  }
  const startMs = performance.now() - started
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const rss = rssMiB(child.pid!)
  const stopping = performance.now()
  child.kill('SIGTERM')
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const exitCode = await exited
  clearTimeout(killer)
  return { startMs, rssMiB: rss, stopMs: performance.now() - stopping, exitCode }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const machine = machineInfo()
  const { infra } = await ensureInfra()
  const issuer = await testIssuer()
  // The Order Service refuses to start without the identity it calls the others with.
  const scratch = mkdtempSync(join(tmpdir(), 'brewmesh-lifecycle-'))
  const tokenFile = join(scratch, 'order.token')
  writeFileSync(tokenFile, await issuer.mint({ sub: 'order', roles: ['service'] }))
  const results: Record<string, Round[]> = {}

  const echoPort = await freePort()
  results['echo (bare grpc-js)'] = []
  for (let i = 0; i < ROUNDS; i++)
    results['echo (bare grpc-js)'].push(await measure(['bench/echo/echo-server.ts', String(echoPort)], REPO, {}, echoPort, true))

  for (const service of SERVICES) {
    const env = isolatedEnv(service, infra, { ...issuer.env, LOG_LEVEL: 'warn', SERVICE_TOKEN_FILE: tokenFile })
    await migrateProcess(service, env)
    await ensureBundled(service)
    results[service] = []
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const port = await freePort()
        const round = await measure(
          ['--import', PRELOAD, MAIN],
          join(REPO, 'services', service),
          { ...env, GRPC_PORT: String(port), METRICS_PORT: String(await freePort()) },
          port,
          false,
        )
        note(
          `${service} #${i + 1}: SERVING in ${fmt(round.startMs, 0)} ms, ${fmt(round.rssMiB, 0)} MiB idle, stopped in ${fmt(round.stopMs, 0)} ms (exit ${round.exitCode})`,
        )
        results[service].push(round)
      }
    } finally {
      await dropSchema(env)
    }
  }
  rmSync(scratch, { recursive: true, force: true })

  const echo = results['echo (bare grpc-js)']
  const rows = Object.entries(results).map(([name, rounds]) => {
    const start = median(rounds.map((r) => r.startMs))
    const rss = median(rounds.map((r) => r.rssMiB))
    const stop = median(rounds.map((r) => r.stopMs))
    const met = (value: number, target: number) => (name.startsWith('echo') ? '' : value <= target ? ' ✓' : ' ✗')
    return [
      name,
      `${fmt(start, 0)}${met(start, TARGETS.startMs)}`,
      `${fmt(rss, 0)}${met(rss, TARGETS.rssMiB)}`,
      `${fmt(stop, 0)}${met(stop, TARGETS.stopMs)}`,
      `${fmt(start / median(echo.map((r) => r.startMs)), 1)}x / ${fmt(rss / median(echo.map((r) => r.rssMiB)), 1)}x`,
      rounds.map((r) => String(r.exitCode)).join(','),
    ]
  })
  const lines = [
    `## service lifecycle, ${startedAt.toISOString()}`,
    '',
    `${describeMachine(machine)}; load ${fmt(loadNow(), 1)} at the end; median of ${ROUNDS} starts; RSS read ${IDLE_MS / 1000} s after SERVING.`,
    '',
    ...markdownTable(
      [
        'process',
        { title: `spawn → SERVING, ms (≤ ${TARGETS.startMs})`, align: 'right' },
        { title: `idle RSS, MiB (≤ ${TARGETS.rssMiB})`, align: 'right' },
        { title: `SIGTERM → exit, ms (< ${TARGETS.stopMs})`, align: 'right' },
        { title: 'start / RSS vs echo', align: 'right' },
        'exit codes',
      ],
      rows,
    ),
    '',
    `Reproduce: \`${reproduceCommand('bench/service-lifecycle.bench.ts', ['BENCH_LIFECYCLE_ROUNDS', 'BENCH_LIFECYCLE_IDLE_S', 'BENCH_LIFECYCLE_SERVICES'])}\``,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  saveResults('service-lifecycle.json', { startedAt, machine, rounds: ROUNDS, idleMs: IDLE_MS, results })
}

await runBench(main)
