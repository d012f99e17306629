/**
 * Memory of many open server streams: N WatchOrder streams on the Order Service (the mesh as
 * processes, one placed order, watched by its customer) next to N streams of the bare grpc-js echo
 * server (bench/echo, as a process of its own) holding the same number of streams, in the same run.
 * A report, not a test: it prints and saves the numbers and exits 0 whatever they are.
 *
 *   pnpm exec node bench/watch-streams.bench.ts
 *
 * Settings (environment): BENCH_STREAMS (10000), BENCH_STREAM_CHANNELS (20 client connections
 * the streams are spread over), BENCH_STREAM_SETTLE_S (5: seconds after the last stream opened
 * before the resident set is read).
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import {
  credentials,
  loadPackageDefinition,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  type ServiceClientConstructor,
} from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { OrderServiceClient, type PlaceOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { freePort } from '@brewmesh/testkit/infra.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { bearer, testIssuer } from '@brewmesh/testkit/tokens.ts'
import { ECHO_PROTO } from './echo/echo-server.ts'
import { reproduceCommand } from './lib/command.ts'
import { ensureInfra } from './lib/infra.ts'
import { rssMiB } from './lib/memory.ts'
import { note } from './lib/log.ts'
import { describeMachine, loadNow, machineInfo } from './lib/machine.ts'
import { fmt, markdownTable } from './lib/markdown.ts'
import { runBench } from './lib/main.ts'
import { startMesh } from './lib/mesh.ts'
import { REPO } from './lib/repo.ts'
import { saveResults } from './lib/results.ts'
import { seedCallers } from './place-order/setup.ts'
import { LATTE } from './place-order/workload.ts'

const STREAMS = Number(process.env['BENCH_STREAMS'] ?? 10_000)
const CHANNELS = Number(process.env['BENCH_STREAM_CHANNELS'] ?? 20)
const SETTLE_MS = Number(process.env['BENCH_STREAM_SETTLE_S'] ?? 5) * 1000
const TARGET_RATIO = 1.3
// Streams opened at a time: each WatchOrder reads the order first, and a bigger wave meets the
// database pool's bound (RESOURCE_EXHAUSTED, load shed as designed) instead of measuring memory.
const WAVE = 100

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Held {
  idleMiB: number
  heldMiB: number
  openMs: number
}

/**
 * Opens `STREAMS` streams over `CHANNELS` connections (a distinct channel option keeps grpc-js
 * from sharing one connection), waits for each stream's first message, then reads the server's
 * resident set; cancels them all afterwards.
 */
async function holdStreams(
  pid: number,
  channel: (options: ChannelOptions) => Client,
  open: (client: Client) => ClientReadableStream<unknown>,
): Promise<Held> {
  await sleep(SETTLE_MS)
  const idleMiB = rssMiB(pid)
  const clients = Array.from({ length: CHANNELS }, (_, i) => channel({ 'brewmesh.bench.channel': i }))
  const streams: ClientReadableStream<unknown>[] = []
  const started = performance.now()
  try {
    const first: Promise<void>[] = []
    for (let i = 0; i < STREAMS; i++) {
      const stream = open(clients[i % CHANNELS]!)
      streams.push(stream)
      first.push(
        new Promise<void>((resolve, reject) => {
          stream.once('data', () => resolve())
          stream.once('error', (err: Error) => reject(err))
        }),
      )
      // Open in waves, so the server is not asked for all of them in one tick.
      if (i % WAVE === WAVE - 1) await Promise.all(first.slice(-WAVE))
    }
    await Promise.all(first)
    const openMs = performance.now() - started
    await sleep(SETTLE_MS)
    return { idleMiB, heldMiB: rssMiB(pid), openMs }
  } finally {
    for (const s of streams) {
      s.on('error', () => undefined)
      s.cancel()
    }
    for (const c of clients) c.close()
  }
}

async function echoBaseline(): Promise<Held> {
  const port = await freePort()
  const child = spawn(process.execPath, ['bench/echo/echo-server.ts', String(port), '300'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
  const definition = loadSync(ECHO_PROTO, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true })
  const Echo = (
    loadPackageDefinition(definition) as unknown as { brewmesh: { bench: { echo: { v1: { EchoService: ServiceClientConstructor } } } } }
  ).brewmesh.bench.echo.v1.EchoService
  try {
    return await holdStreams(
      child.pid!,
      (options) => new Echo(`127.0.0.1:${port}`, credentials.createInsecure(), options),
      (client) => (client as unknown as { watch(r: { id: string }): ClientReadableStream<unknown> }).watch({ id: randomUUID() }),
    )
  } finally {
    child.kill('SIGTERM')
  }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const machine = machineInfo()
  const { infra } = await ensureInfra()
  const issuer = await testIssuer()

  note(`echo: ${STREAMS} streams over ${CHANNELS} connections`)
  const echo = await echoBaseline()

  note('starting the mesh')
  const mesh = await startMesh(infra, issuer, { LOG_LEVEL: 'warn' })
  let order: Held
  try {
    const [caller] = await seedCallers(mesh.ports, issuer, {
      customers: 1,
      rewardsEach: 1,
      concurrency: 1,
      signal: new AbortController().signal,
      onProgress: () => undefined,
    })
    const address = `127.0.0.1:${mesh.ports.order}`
    const placing = new OrderServiceClient(address, credentials.createInsecure(), { interceptors: [bearer(caller!.token)] })
    const placed = await unary<PlaceOrderResponse>((cb) =>
      placing.placeOrder(
        {
          requestId: `watch-bench:${randomUUID()}`,
          customerId: caller!.customerId,
          lines: [{ quantity: 1, memberCustomerId: '', item: { $case: 'drink', value: { menuItemId: LATTE, customization: undefined } } }],
          rewardIds: [],
          note: '',
        },
        cb,
      ),
    )
    placing.close()
    const orderId = placed.order!.id
    note(`order: ${STREAMS} WatchOrder streams on order ${orderId} over ${CHANNELS} connections`)
    order = await holdStreams(
      mesh.pids.order,
      (options) => new OrderServiceClient(address, credentials.createInsecure(), { ...options, interceptors: [bearer(caller!.token)] }),
      (client) => (client as OrderServiceClient).watchOrder({ id: orderId }),
    )
  } finally {
    await mesh.stop()
  }

  const perStreamKiB = (h: Held) => ((h.heldMiB - h.idleMiB) * 1024) / STREAMS
  const ratio = order.heldMiB / echo.heldMiB
  const rows = [
    ['echo (bare grpc-js)', echo],
    ['order WatchOrder', order],
  ].map(([name, h]) => {
    const held = h as Held
    return [name as string, fmt(held.idleMiB, 0), fmt(held.heldMiB, 0), fmt(perStreamKiB(held), 1), fmt(held.openMs / 1000, 1)]
  })
  const lines = [
    `## watch-streams, ${startedAt.toISOString()}`,
    '',
    `${describeMachine(machine)}; load ${fmt(loadNow(), 1)} at the end; ${STREAMS} streams over ${CHANNELS} connections.`,
    '',
    ...markdownTable(
      [
        'server',
        { title: 'RSS idle, MiB', align: 'right' },
        { title: `RSS holding ${STREAMS}, MiB`, align: 'right' },
        { title: 'KiB per stream', align: 'right' },
        { title: 'all open after, s', align: 'right' },
      ],
      rows,
    ),
    '',
    `Order / echo, RSS holding the streams: **${fmt(ratio, 2)}x** (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'meets' : 'misses'}).`,
    '',
    `Reproduce: \`${reproduceCommand('bench/watch-streams.bench.ts', ['BENCH_STREAMS', 'BENCH_STREAM_CHANNELS', 'BENCH_STREAM_SETTLE_S'])}\``,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  saveResults('watch-streams.json', { startedAt, machine, streams: STREAMS, channels: CHANNELS, echo, order, ratio })
}

await runBench(main)
