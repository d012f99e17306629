/**
 * What one round trip costs on this machine, each against its bare baseline in the same run. An
 * order is about a dozen of them (bench/README.md place-order, fourteenth session):
 *
 * - a gRPC unary call of echo's size through the runtime's server (its one interceptor: admission,
 *   the caller's token, verified once and then cached, call metrics) against a bare grpc-js
 *   server: CPU per call, client and server in this process;
 * - a PostgreSQL round trip (a prepared one-row select) over TCP against the Unix socket: this
 *   process's CPU and PostgreSQL's per query;
 * - a `pg_notify` heard by a listening connection (how each commit wakes its outbox relay)
 *   against the same select without it;
 * - a prepared statement's 40-column row read as the runtime's services send it (its rows
 *   described on its first execution only, runtime db/described-once.ts) against the same named
 *   statement as pg sends it (described on every execution);
 * - a write counted by the runtime's rate limiter (one Valkey script, every PlaceOrder) against
 *   the same count as bare iovalkey MULTI, INCR, EXPIRE and EXEC (how the limiter counted before
 *   the nineteenth session): this process's CPU and Valkey's per count, 20 in flight.
 *
 * A report, not a test: it prints and saves the numbers and exits 0 whatever they are.
 *
 *   eval "$(bash scripts/stack.sh env)"
 *   pnpm exec node bench/round-trips.bench.ts
 *
 * Settings (environment): BENCH_RT_CALLS (100000 gRPC calls a round, 20 in flight),
 * BENCH_RT_QUERIES (20000 queries a round), BENCH_RT_ROUNDS (2), BENCH_PG_SOCKET_DIR (the Unix
 * socket's directory; default: the local stack's, when scripts/stack.sh runs PostgreSQL here).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { Client, credentials, Metadata } from '@grpc/grpc-js'
import type pgModule from 'pg'
import { createLogger } from '@brewmesh/runtime/logger'
import { testIssuer, verifierOf, type TestIssuer } from '@brewmesh/testkit/tokens.ts'
import { createGrpcServer, type GrpcServerOptions } from '../services/runtime/src/grpc/server.ts'
import { sendStatements } from '../services/runtime/src/db/send-statements.ts'
import { createRateLimiter } from '../services/runtime/src/rate-limit.ts'
import { createValkey } from '../services/runtime/src/valkey.ts'
import { echoService, startEchoServer } from './echo/echo-server.ts'
import { reproduceCommand } from './lib/command.ts'
import { cpuMsBetween, sampleCpu } from './lib/cpu-time.ts'
import { ensureInfra } from './lib/infra.ts'
import { note } from './lib/log.ts'
import { describeMachine, machineInfo } from './lib/machine.ts'
import { fmt, markdownTable } from './lib/markdown.ts'
import { runBench } from './lib/main.ts'
import { infrastructureGroups } from './lib/processes.ts'
import { REPO } from './lib/repo.ts'
import { datedFileName, saveResults } from './lib/results.ts'
import { median } from './lib/stats.ts'

// bench/ depends on neither: the testkit's pg and the runtime's OpenTelemetry API (the same the
// services use), so the workspace lockfile does not change for a benchmark.
const pg = createRequire(import.meta.resolve('@brewmesh/testkit/env.ts'))('pg') as typeof pgModule
const { metrics } = createRequire(import.meta.resolve('@brewmesh/runtime/logger'))('@opentelemetry/api') as {
  metrics: { getMeter(name: string): GrpcServerOptions['meter'] }
}

const CALLS = Number(process.env['BENCH_RT_CALLS'] ?? 100_000)
const QUERIES = Number(process.env['BENCH_RT_QUERIES'] ?? 20_000)
const COUNTS = Number(process.env['BENCH_RT_COUNTS'] ?? 20_000)
const ROUNDS = Number(process.env['BENCH_RT_ROUNDS'] ?? 2)
const IN_FLIGHT = 20
const SERVERS = {
  postgres: infrastructureGroups().filter((g) => g.name === 'postgres'),
  valkey: infrastructureGroups().filter((g) => g.name === 'valkey'),
}

interface Cost {
  /** CPU of this process per call or query, µs (client and, for gRPC, server too). */
  processUs: number
  /** The server's CPU per query or count, µs (PostgreSQL's or Valkey's; undefined for gRPC, or when the server is not on this machine). */
  serverUs: number | undefined
}

/** Runs `n` operations, `inFlight` at a time, and what they cost this process and `server`. */
async function measure(
  n: number,
  inFlight: number,
  op: () => Promise<unknown>,
  settleMs = 0,
  server: keyof typeof SERVERS | null = 'postgres',
): Promise<Cost> {
  const groups = server ? SERVERS[server] : []
  const before = sampleCpu(groups)
  const cpu = process.cpuUsage()
  let started = 0
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started++ < n) await op()
    }),
  )
  // A notification arrives after its query's answer: what it costs the listener lands in here.
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs))
  const used = process.cpuUsage(cpu)
  const serverMs = server ? cpuMsBetween(before, sampleCpu(groups))[server] : undefined
  return { processUs: (used.user + used.system) / n, serverUs: serverMs === undefined ? undefined : (serverMs * 1000) / n }
}

// ------------------------------------------------------------------- gRPC ----

async function grpcServers(issuer: TestIssuer) {
  const bare = await startEchoServer({ payloadBytes: 300 })
  const runtime = createGrpcServer({
    service: 'bench_round_trips',
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 4 * 1024 * 1024,
    shutdownGraceMs: 1000,
    log: createLogger({ level: 'silent', service: 'bench', instanceId: 'bench' }),
    meter: metrics.getMeter('bench'),
    verifyToken: await verifierOf(issuer),
    admission: { maxInFlight: 1000, maxQueued: 0, maxQueueMs: 0, maxStreams: 100, retryAfterMs: 100, targetLatencyMs: 0, minInFlight: 1 },
  })
  const { definition, implementation } = echoService(300)
  runtime.add(definition, implementation)
  const runtimePort = await runtime.listen()
  return {
    barePort: bare.port,
    runtimePort,
    stop: async () => {
      await bare.stop()
      runtime.server.forceShutdown()
    },
  }
}

/** One echo call after another on a client of its own; both servers get the same token. */
function echoCaller(port: number, bearerToken: string) {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure())
  const metadata = new Metadata()
  metadata.set('authorization', `Bearer ${bearerToken}`)
  const serialize = (value: { id: string }) => Buffer.from(`\n${String.fromCharCode(value.id.length)}${value.id}`)
  const call = () =>
    new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest(
        '/brewmesh.bench.echo.v1.EchoService/Echo',
        serialize,
        (bytes: Buffer) => bytes,
        { id: 'rt' },
        metadata,
        (err) => (err ? reject(err) : resolve()),
      ),
    )
  return { call, close: () => client.close() }
}

// -------------------------------------------------------------- PostgreSQL ----

function socketDir(): string | undefined {
  const given = process.env['BENCH_PG_SOCKET_DIR']
  if (given) return given
  const remembered = join(REPO, '.stack/postgres.path')
  if (!existsSync(remembered)) return undefined
  const dir = join(readFileSync(remembered, 'utf8').trim(), 'run')
  return existsSync(join(dir, `.s.PGSQL.${process.env['DB_PORT'] ?? 5432}`)) ? dir : undefined
}

async function connect(env: Record<string, string>, host: string) {
  const client = new pg.Client({
    host,
    port: Number(env['DB_PORT']),
    user: env['DB_USER'],
    password: env['DB_PASSWORD'],
    database: 'postgres',
    application_name: 'bench-round-trips',
  })
  await client.connect()
  return client
}

// ------------------------------------------------------------ rate limit ----

/**
 * A write counted as the runtime's rate limiter counts it (one customer, a window of an hour and a
 * limit never reached), and the same count as bare MULTI, INCR, EXPIRE and EXEC on the same
 * connection; the keys are the bench's own and deleted at the end.
 */
async function rateLimits(env: Record<string, string>) {
  const log = createLogger({ level: 'silent', service: 'bench', instanceId: 'bench' })
  const valkey = createValkey({ host: env['VALKEY_HOST']!, port: Number(env['VALKEY_PORT']), keyPrefix: 'bench-rt:' }, log, 'commands')
  const limiter = createRateLimiter({
    valkey,
    prefix: 'bench-rt:',
    service: 'bench',
    config: { limit: Number.MAX_SAFE_INTEGER, windowSeconds: 3600 },
    meter: metrics.getMeter('bench'),
    log,
  })
  if (valkey.status !== 'ready') await new Promise((resolve) => valkey.once('ready', resolve))
  const caller = { kind: 'customer', subject: 'bench-round-trips', householdId: undefined } as const
  const key = 'bench-rt:multi'
  return {
    count: () => limiter(caller),
    multi: () => valkey.multi().incr(key).expire(key, 7200).exec(),
    /** What the limiter counted: the limiter lets a write through uncounted when Valkey fails. */
    async counted() {
      const keys = await valkey.keys('bench-rt:ratelimit:*')
      const values = keys.length > 0 ? await valkey.mget(...keys) : []
      return values.reduce((sum, v) => sum + Number(v ?? 0), 0)
    },
    async stop() {
      const keys = await valkey.keys('bench-rt:*')
      if (keys.length > 0) await valkey.del(...keys)
      valkey.disconnect()
    },
  }
}

const SELECT = { name: 'rt_select', text: 'select $1::int as one', values: [1] }
const NOTIFY = { name: 'rt_notify', text: "select $1::int as one, pg_notify('bench_round_trips', '')", values: [1] }
/** As wide as the Loyalty Service's redemption context, which every RedeemReward reads. */
const WIDE = `select ${Array.from({ length: 40 }, (_, i) => `$1::int + ${i} as column_${i}`).join(', ')}`

/** The named statement as pg sends it, a Query named after it is made (as the runtime did before). */
function namedAsPgSends(client: pgModule.Client, name: string, text: string, values: unknown[]): Promise<pgModule.QueryResult> {
  return new Promise((resolve, reject) => {
    // name and callback are Query's own fields (pg/lib/query.js), not in its typings.
    const query = new pg.Query(text, values) as pgModule.Query & {
      name: string
      callback: (err: Error | null, r: pgModule.QueryResult) => void
    }
    query.name = name
    query.callback = (err, result) => (err ? reject(err) : resolve(result))
    client.query(query)
  })
}

// ------------------------------------------------------------------ main ----

async function main(): Promise<void> {
  const { infra, source } = await ensureInfra()
  const env = infra as unknown as Record<string, string>
  note(`infra from ${source}; ${ROUNDS} rounds of ${CALLS} gRPC calls, ${QUERIES} queries of each kind and ${COUNTS} counts`)
  const issuer = await testIssuer()
  const token = await issuer.mint({ sub: 'bench', roles: ['service'] })
  const servers = await grpcServers(issuer)
  const bare = echoCaller(servers.barePort, token)
  const runtime = echoCaller(servers.runtimePort, token)
  const dir = socketDir()
  const tcp = await connect(env, env['DB_HOST']!)
  const unix = dir ? await connect(env, dir) : undefined
  if (!unix) note('no Unix socket of PostgreSQL found (BENCH_PG_SOCKET_DIR): TCP only')
  const limited = await rateLimits(env)
  const describedEach = await connect(env, env['DB_HOST']!)
  const describedOnce = await connect(env, env['DB_HOST']!)
  sendStatements(describedOnce as pgModule.PoolClient, 200)
  const wideOnce = () => describedOnce.query(WIDE, [1])
  const wideEach = () => namedAsPgSends(describedEach, 'rt_wide', WIDE, [1])
  const listener = await connect(env, env['DB_HOST']!)
  let heard = 0
  listener.on('notification', () => heard++)
  await listener.query('listen bench_round_trips')

  const rows: { name: string; measured: string; baseline: string; m: Cost[]; b: Cost[] }[] = [
    { name: 'gRPC unary call', measured: "the runtime's server", baseline: 'bare grpc-js', m: [], b: [] },
    { name: 'PostgreSQL round trip', measured: 'TCP loopback', baseline: 'Unix socket', m: [], b: [] },
    { name: 'pg_notify heard by a listener', measured: 'select with pg_notify', baseline: 'the same select', m: [], b: [] },
    { name: 'a write counted in Valkey', measured: "the runtime's rate limiter", baseline: 'MULTI INCR EXPIRE EXEC', m: [], b: [] },
    { name: 'a prepared 40-column row', measured: 'described once (the runtime)', baseline: 'described every time (pg)', m: [], b: [] },
  ]
  try {
    // Warm both sides first: the first calls compile, connect and verify the token.
    await measure(5000, IN_FLIGHT, bare.call)
    await measure(5000, IN_FLIGHT, runtime.call)
    await measure(2000, 1, () => tcp.query(SELECT))
    await measure(2000, 1, () => tcp.query(NOTIFY), 300)
    if (unix) await measure(2000, 1, () => unix.query(SELECT))
    await measure(2000, IN_FLIGHT, limited.count, 0, 'valkey')
    await measure(2000, IN_FLIGHT, limited.multi, 0, 'valkey')
    await measure(2000, 1, wideEach)
    await measure(2000, 1, wideOnce)
    const read = async (wide: () => Promise<pgModule.QueryResult>) => (await wide()).rows as Record<string, number>[]
    const [once, each] = [await read(wideOnce), await read(wideEach)]
    if (JSON.stringify(once) !== JSON.stringify(each) || once[0]?.['column_39'] !== 40) {
      throw new Error(`a 40-column row read differently: ${JSON.stringify(once)} against ${JSON.stringify(each)}`)
    }
    for (let round = 1; round <= ROUNDS; round++) {
      rows[0]!.b.push(await measure(CALLS, IN_FLIGHT, bare.call, 0, null))
      rows[0]!.m.push(await measure(CALLS, IN_FLIGHT, runtime.call, 0, null))
      if (unix) rows[1]!.b.push(await measure(QUERIES, 1, () => unix.query(SELECT)))
      rows[1]!.m.push(await measure(QUERIES, 1, () => tcp.query(SELECT)))
      rows[2]!.b.push(await measure(QUERIES, 1, () => tcp.query(SELECT), 300))
      rows[2]!.m.push(await measure(QUERIES, 1, () => tcp.query(NOTIFY), 300))
      rows[3]!.b.push(await measure(COUNTS, IN_FLIGHT, limited.multi, 0, 'valkey'))
      rows[3]!.m.push(await measure(COUNTS, IN_FLIGHT, limited.count, 0, 'valkey'))
      rows[4]!.b.push(await measure(QUERIES, 1, wideEach))
      rows[4]!.m.push(await measure(QUERIES, 1, wideOnce))
      note(`round ${round} done (${heard} notifications heard)`)
    }
    const counts = 2000 + ROUNDS * COUNTS
    const counted = await limited.counted()
    const uncounted = counted < counts ? ': some went uncounted (Valkey failed them), so its figures are too low' : ''
    note(`the rate limiter counted ${counted} of ${counts} writes${uncounted}`)
  } finally {
    bare.close()
    runtime.close()
    await servers.stop()
    await Promise.all([tcp.end(), unix?.end(), listener.end(), limited.stop(), describedEach.end(), describedOnce.end()])
  }

  const total = (c: Cost[]) => median(c.map((x) => x.processUs + (x.serverUs ?? 0)))
  const us = (c: Cost[], key: keyof Cost) =>
    c
      .map((x) => x[key])
      .map((v) => (v === undefined ? 'n/a' : fmt(v, 1)))
      .join(' / ') || 'n/a'
  const table = markdownTable(
    [
      'round trip',
      'measured',
      'baseline',
      { title: 'this process, µs: measured', align: 'right' },
      { title: 'baseline', align: 'right' },
      { title: 'server (PostgreSQL, Valkey), µs: measured', align: 'right' },
      { title: 'baseline', align: 'right' },
      { title: 'measured / baseline, both together', align: 'right' },
    ],
    rows.map((r) => [
      r.name,
      r.measured,
      r.baseline,
      us(r.m, 'processUs'),
      us(r.b, 'processUs'),
      us(r.m, 'serverUs'),
      us(r.b, 'serverUs'),
      r.b.length > 0 ? `${fmt(total(r.m) / total(r.b))}x` : 'n/a',
    ]),
  )
  const command = reproduceCommand('bench/round-trips.bench.ts', [
    'BENCH_RT_CALLS',
    'BENCH_RT_QUERIES',
    'BENCH_RT_ROUNDS',
    'BENCH_RT_COUNTS',
    'BENCH_PG_SOCKET_DIR',
  ])
  const machine = machineInfo()
  console.log(
    [
      `CPU per call or query, one figure per round (gRPC: client and server, both in this process; ${IN_FLIGHT} calls in flight; queries one at a time on one connection).`,
      '',
      ...table,
      '',
      `Machine: ${describeMachine(machine)}.`,
      '',
      `Reproduce: \`${command}\``,
    ].join('\n'),
  )
  const saved = saveResults(datedFileName('round-trips', new Date()), { machine, command, calls: CALLS, queries: QUERIES, rows })
  note(`saved ${saved}`)
}

await runBench(main)
