/**
 * The Customer service's order-statistics pipeline (order events → facts in PostgreSQL → BullMQ
 * rollups on Valkey → WatchCustomerStats) against a raw kafkajs consumer and bare BullMQ, all
 * measured in this process in the same run. A report, not a test: it prints and saves the numbers
 * and exits 0 whatever they are (1 when something crashes or a run never completes, such as
 * statistics that never catch up with their facts).
 *
 *   pnpm --filter @brewmesh/bench bench:stats
 *   BENCH_STATS_EVENTS=2000 pnpm exec node bench/stats-pipeline.bench.ts
 *
 * Settings (environment): BENCH_STATS_EVENTS (5000 per run: placed + completed per order),
 * BENCH_STATS_CUSTOMERS (200), BENCH_STATS_JOBS (5000 per BullMQ run), BENCH_STATS_ROUNDS (2),
 * BENCH_STATS_DEBOUNCE_MS (50, the service's STATS_ROLLUP_DEBOUNCE_MS), BENCH_STATS_SAMPLES (100),
 * BENCH_STATS_STREAMS (20), BENCH_STATS_SPACING_MS (100), BENCH_STATS_TIMEOUT_MS (180000 per run).
 */
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { relative } from 'node:path'
import { performance } from 'node:perf_hooks'
import { credentials, type ClientReadableStream } from '@grpc/grpc-js'
import { CustomerServiceClient, type WatchCustomerStatsResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { migrateCustomer, startApp } from '@brewmesh/customer/src/app.ts'
import { readConfig } from '@brewmesh/customer/src/config.ts'
import { STATS_CONSUMER } from '@brewmesh/customer/src/events/order-stats.consumer.ts'
import { pendingRollups, pendingRollupsKey } from '@brewmesh/customer/src/jobs/pending-rollups.ts'
import { rollupScheduler, STATS_QUEUE, type RollupJob } from '@brewmesh/customer/src/jobs/stats-rollup.ts'
import { createKafka, ensureTopics, topicName } from '@brewmesh/runtime/kafka'
import { deadLetterTopic } from '@brewmesh/runtime/kafka'
import { createLogger } from '@brewmesh/runtime/logger'
import type { RunningService } from '@brewmesh/runtime/service'
import { closeValkey, createValkey, type Valkey } from '@brewmesh/runtime/valkey'
import { orderCompleted, orderEvent, testOrder, type ContractMessage } from '@brewmesh/testkit/contract-events.ts'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { bearer, testIssuer } from '@brewmesh/testkit/tokens.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { reproduceCommand } from './lib/command.ts'
import { ensureInfra } from './lib/infra.ts'
import { interruptOnSignals } from './lib/interrupt.ts'
import { note } from './lib/log.ts'
import { describeMachine, loadNow, machineInfo } from './lib/machine.ts'
import { fmt, markdownTable } from './lib/markdown.ts'
import { runBench } from './lib/main.ts'
import { pgClient, type PgClient } from './lib/pg.ts'
import { REPO } from './lib/repo.ts'
import { datedFileName, saveResults } from './lib/results.ts'
import { median, percentile, rate } from './lib/stats.ts'

// bench/ has no dependency of its own on pg or bullmq: load the very copies the service runs
// (pg through the testkit, see lib/pg.ts; bullmq through the Customer service), so the lockfile
// does not change for a benchmark. kafkajs comes through the runtime's createKafka (a plain
// kafkajs Kafka client).
const bullmq = createRequire(import.meta.resolve('@brewmesh/customer/src/app.ts'))('bullmq') as BullMQ

/** The part of BullMQ's API the bare baseline uses (bench/ cannot name bullmq's own types). */
interface BullMQ {
  Queue: new (name: string, options: { connection: Valkey; prefix: string }) => BareQueue
  Worker: new (
    name: string,
    processor: () => Promise<void>,
    options: { connection: Valkey; prefix: string; concurrency: number },
  ) => BareWorker
}
interface BareQueue {
  addBulk(jobs: { name: string; data: unknown; opts?: Record<string, unknown> }[]): Promise<unknown[]>
  waitUntilReady(): Promise<unknown>
  obliterate(options: { force: boolean }): Promise<void>
  close(): Promise<void>
}
interface BareWorker {
  on(event: 'completed', listener: () => void): unknown
  waitUntilReady(): Promise<unknown>
  close(): Promise<void>
}

type Kafka = ReturnType<typeof createKafka>
type Producer = ReturnType<Kafka['producer']>
type Admin = ReturnType<Kafka['admin']>

const settings = {
  events: Number(process.env['BENCH_STATS_EVENTS'] ?? 5000),
  customers: Number(process.env['BENCH_STATS_CUSTOMERS'] ?? 200),
  jobs: Number(process.env['BENCH_STATS_JOBS'] ?? 5000),
  rounds: Number(process.env['BENCH_STATS_ROUNDS'] ?? 2),
  debounceMs: Number(process.env['BENCH_STATS_DEBOUNCE_MS'] ?? 50),
  samples: Number(process.env['BENCH_STATS_SAMPLES'] ?? 100),
  streams: Number(process.env['BENCH_STATS_STREAMS'] ?? 20),
  spacingMs: Number(process.env['BENCH_STATS_SPACING_MS'] ?? 100),
  timeoutMs: Number(process.env['BENCH_STATS_TIMEOUT_MS'] ?? 180_000),
  /** Messages per producer.send, the same for the pipeline and the raw consumer. */
  sendChunk: 1000,
  /** Job options of every job both BullMQ runs add (the service's rollup jobs: finished ones deleted at once). */
  jobOptions: { removeOnComplete: true },
}
const SETTING_VARS = [
  'BENCH_STATS_EVENTS',
  'BENCH_STATS_CUSTOMERS',
  'BENCH_STATS_JOBS',
  'BENCH_STATS_ROUNDS',
  'BENCH_STATS_DEBOUNCE_MS',
  'BENCH_STATS_SAMPLES',
  'BENCH_STATS_STREAMS',
  'BENCH_STATS_SPACING_MS',
  'BENCH_STATS_TIMEOUT_MS',
]

// Ctrl-C or SIGTERM ends the waits, so the app still stops and the schema is still dropped.
const interrupt = interruptOnSignals()
const within = <T>(promise: Promise<T>, ms: number, what: string) => interrupt.within(promise, ms, what)

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// ----------------------------------------------------------------- events ----

interface Batch {
  customers: string[]
  messages: ContractMessage[]
  /** Orders per customer: each is placed, then completed. */
  ordersOf: Map<string, number>
}

/** events/2 orders over new customers, each order placed then completed (key = order id, as the Order service publishes). */
function orderBatch(events: number, customerCount: number): Batch {
  const customers = Array.from({ length: customerCount }, () => randomUUID())
  const messages: ContractMessage[] = []
  const ordersOf = new Map<string, number>()
  for (let i = 0; i < Math.floor(events / 2); i++) {
    const customerId = customers[i % customers.length]!
    const order = testOrder({ customerId })
    messages.push(orderEvent(order, { $case: 'placed', value: { order } }), orderCompleted(order))
    ordersOf.set(customerId, (ordersOf.get(customerId) ?? 0) + 1)
  }
  return { customers: customers.filter((c) => ordersOf.has(c)), messages, ordersOf }
}

async function produce(producer: Producer, topic: string, messages: ContractMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += settings.sendChunk) {
    await producer.send({ topic, messages: messages.slice(i, i + settings.sendChunk) })
  }
}

// ------------------------------------------------------------ stats feed ----

interface PublishedStats {
  customerId: string
  ordersCompleted: number
}

/**
 * Every rollup result, read from the service's own Valkey channel (each rollup job publishes the
 * stats it stored, after storing them). One subscriber connection for the whole run.
 */
class RollupTap {
  listener: ((stats: PublishedStats, at: number) => void) | undefined
  readonly subscriber: Valkey
  constructor(subscriber: Valkey) {
    this.subscriber = subscriber
  }

  async listen(channel: string): Promise<void> {
    this.subscriber.on('message', (ch: string, message: string) => {
      if (ch !== channel || !this.listener) return
      this.listener(JSON.parse(message) as PublishedStats, performance.now())
    })
    await this.subscriber.subscribe(channel)
  }

  /** Resolves when every customer's published ordersCompleted reaches `want(customerId)`; counts the rollups of those customers. */
  until(want: Map<string, number>): { done: Promise<number>; rollups: () => number; missing: Set<string> } {
    const missing = new Set(want.keys())
    let rollups = 0
    let finish: (at: number) => void = () => undefined
    const done = new Promise<number>((resolve) => (finish = resolve))
    this.listener = (stats, at) => {
      const target = want.get(stats.customerId)
      if (target === undefined) return
      rollups += 1
      if (stats.ordersCompleted >= target) missing.delete(stats.customerId)
      if (missing.size === 0) finish(at)
    }
    return { done, rollups: () => rollups, missing }
  }
}

// ------------------------------------------------------------- the runs ----

type Target = 'raw-kafkajs' | 'pipeline' | 'bare-bullmq' | 'rollups'

interface Run {
  target: Target
  round: number
  /** Messages or jobs in the run. */
  items: number
  seconds: number
  perSecond: number
  /** 1-minute load average when the run began: other work on the machine shows up here. */
  loadBefore: number
  /** The pipeline only: how the time splits. */
  pipeline?: {
    produceSeconds: number
    /** Every event's fact recorded (processed_events) : events/s consumed and applied. */
    appliedSeconds: number
    appliedPerSecond: number
    /** Rollup results published for the run's customers while it ran, and per second of the run. */
    rollups: number
    rollupsPerSecond: number
  }
}

/** Raw kafkajs: a new group on a fresh topic, eachMessage decoding OrderEvent and nothing else. */
async function rawKafkaRun(kafka: Kafka, admin: Admin, producer: Producer, suffix: string, round: number, events: number): Promise<Run> {
  const batch = orderBatch(events, settings.customers)
  const topic = `bench.raw-kafkajs${suffix}.r${round}`
  await ensureTopics(admin, [{ topic, numPartitions: 6 }])
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}` })
  let seen = 0
  let finish: (at: number) => void = () => undefined
  const done = new Promise<number>((resolve) => (finish = resolve))
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()))
  try {
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) OrderEvent.decode(message.value)
        if (++seen === batch.messages.length) finish(performance.now())
      },
    })
    await within(joined, 60_000, 'raw kafkajs group join')
    const loadBefore = loadNow()
    const start = performance.now()
    await produce(producer, topic, batch.messages)
    const end = await within(done, settings.timeoutMs, `raw kafkajs round ${round}`)
    return {
      target: 'raw-kafkajs',
      round,
      items: batch.messages.length,
      seconds: (end - start) / 1000,
      perSecond: rate(batch.messages.length, end - start),
      loadBefore,
    }
  } finally {
    await consumer.disconnect()
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  }
}

/**
 * The pipeline: the same kind of events on the service's order topic, timed from the first send
 * until every customer's published (and so stored) statistics count all their completed orders.
 */
async function pipelineRun(
  ctx: { producer: Producer; orderTopic: string; db: PgClient; tap: RollupTap },
  round: number,
  events: number,
): Promise<{ run: Run; batch: Batch }> {
  const batch = orderBatch(events, settings.customers)
  const applied = async () =>
    (await ctx.db.query<{ n: number }>('select count(*)::int as n from processed_events where consumer = $1', [STATS_CONSUMER])).rows[0]!.n
  const before = await applied()
  const watch = ctx.tap.until(batch.ordersOf)
  const loadBefore = loadNow()
  const start = performance.now()
  await produce(ctx.producer, ctx.orderTopic, batch.messages)
  const produced = performance.now()
  // Facts: poll the event ids the consumer recorded (same transaction as the fact).
  let appliedAt: number | undefined
  const polling = (async () => {
    while (appliedAt === undefined && !interrupt.signal.aborted) {
      if ((await applied()) - before >= batch.messages.length) appliedAt = performance.now()
      else await sleep(25)
    }
  })()
  const end = await within(watch.done, settings.timeoutMs, `pipeline round ${round}`).catch((err: unknown) => {
    // Say which part never arrived: facts not all recorded, or rollups that never counted them.
    const stale = [...watch.missing].slice(0, 3).join(', ')
    note(
      `pipeline round ${round}: facts recorded ${appliedAt === undefined ? 'not all' : 'all'}; ` +
        `${watch.missing.size} of ${batch.customers.length} customers without a rollup counting all their orders (e.g. ${stale})`,
    )
    throw err
  })
  await within(polling, settings.timeoutMs, `pipeline round ${round} facts`)
  ctx.tap.listener = undefined
  const rollups = watch.rollups()
  const n = batch.messages.length
  return {
    batch,
    run: {
      target: 'pipeline',
      round,
      items: n,
      seconds: (end - start) / 1000,
      perSecond: rate(n, end - start),
      loadBefore,
      pipeline: {
        produceSeconds: (produced - start) / 1000,
        appliedSeconds: ((appliedAt ?? end) - start) / 1000,
        appliedPerSecond: rate(n, (appliedAt ?? end) - start),
        rollups,
        rollupsPerSecond: rate(rollups, end - start),
      },
    },
  }
}

/** Bare BullMQ: a Queue and a Worker (concurrency 2, as the service's) on the same Valkey, N no-op jobs added in bulk. */
async function bareBullRun(connection: Valkey, prefix: string, round: number, jobs: number): Promise<Run> {
  const name = `bench-bare-${round}-${randomUUID().slice(0, 8)}`
  const queue = new bullmq.Queue(name, { connection, prefix })
  const worker = new bullmq.Worker(name, async () => undefined, { connection, prefix, concurrency: 2 })
  let completed = 0
  let finish: (at: number) => void = () => undefined
  const done = new Promise<number>((resolve) => (finish = resolve))
  worker.on('completed', () => {
    if (++completed === jobs) finish(performance.now())
  })
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()])
    const loadBefore = loadNow()
    const start = performance.now()
    for (let i = 0; i < jobs; i += settings.sendChunk) {
      const count = Math.min(settings.sendChunk, jobs - i)
      await queue.addBulk(Array.from({ length: count }, (_, k) => ({ name: 'noop', data: { n: i + k }, opts: settings.jobOptions })))
    }
    const end = await within(done, settings.timeoutMs, `bare BullMQ round ${round}`)
    return { target: 'bare-bullmq', round, items: jobs, seconds: (end - start) / 1000, perSecond: rate(jobs, end - start), loadBefore }
  } finally {
    await worker.close()
    await queue.obliterate({ force: true }).catch(() => undefined)
    await queue.close()
  }
}

/**
 * Rollup capacity: N rollups through the service's own path, the customers marked as owed a rollup
 * and one sweep queued (the scheduler the statistics consumer uses, debounce 0), in rounds of the
 * run's customers (that already have facts): each round waits for every customer's result before
 * the next marks them again, so N rollups are N results published. The service's worker sweeps
 * them: reads the marked customers' facts a page at a time, computes, stores, publishes.
 */
async function rollupRun(
  schedule: (rollups: RollupJob[]) => Promise<void>,
  tap: RollupTap,
  customers: string[],
  round: number,
  jobs: number,
): Promise<Run> {
  const loadBefore = loadNow()
  const start = performance.now()
  let end = start
  try {
    for (let done = 0; done < jobs;) {
      const batch = customers.slice(0, Math.min(customers.length, jobs - done))
      const waiting = new Set(batch)
      let finish: (at: number) => void = () => undefined
      const published = new Promise<number>((resolve) => (finish = resolve))
      tap.listener = (stats, at) => {
        if (waiting.delete(stats.customerId) && waiting.size === 0) finish(at)
      }
      await schedule(batch.map((customerId) => ({ customerId })))
      end = await within(published, settings.timeoutMs, `rollup round ${round}`)
      done += batch.length
    }
    return { target: 'rollups', round, items: jobs, seconds: (end - start) / 1000, perSecond: rate(jobs, end - start), loadBefore }
  } finally {
    tap.listener = undefined
  }
}

// ------------------------------------------------------------- freshness ----

interface Freshness {
  samples: number
  streams: number
  debounceMs: number
  /** Publish call to the WatchCustomerStats message with the new ordersCompleted, ms. */
  delayMs: { median: number; p99: number; min: number; max: number }
  /** Publish call to the broker's ack (part of the delay), ms. */
  ackMs: { median: number; p99: number }
  all: { delayMs: number; ackMs: number }[]
}

/**
 * Streams open for K customers that have statistics; one OrderCompleted at a time for one of them
 * (round robin), timed from the producer.send call to the stream message counting it.
 */
async function freshness(client: CustomerServiceClient, producer: Producer, orderTopic: string, customers: string[]): Promise<Freshness> {
  const chosen = customers.slice(0, settings.streams)
  const completed = new Map<string, number>()
  const waiters = new Map<string, { want: number; resolve: (at: number) => void }>()
  const calls: ClientReadableStream<WatchCustomerStatsResponse>[] = []
  const first = chosen.map(
    (customerId) =>
      new Promise<void>((resolve, reject) => {
        const call = client.watchCustomerStats({ customerId })
        calls.push(call)
        call.on('data', (m: WatchCustomerStatsResponse) => {
          const at = performance.now()
          const n = Number(m.stats?.ordersCompleted ?? 0)
          completed.set(customerId, n)
          resolve()
          const waiter = waiters.get(customerId)
          if (waiter && n >= waiter.want) {
            waiters.delete(customerId)
            waiter.resolve(at)
          }
        })
        call.on('error', (err: Error & { code?: number }) => (err.code === 1 ? undefined : reject(err)))
      }),
  )
  try {
    await within(Promise.all(first), 30_000, 'WatchCustomerStats first messages')
    const all: { delayMs: number; ackMs: number }[] = []
    for (let i = 0; i < settings.samples; i++) {
      const customerId = chosen[i % chosen.length]!
      const want = (completed.get(customerId) ?? 0) + 1
      const arrived = new Promise<number>((resolve) => waiters.set(customerId, { want, resolve }))
      const message = orderCompleted(testOrder({ customerId }))
      const start = performance.now()
      await producer.send({ topic: orderTopic, messages: [message] })
      const acked = performance.now()
      const at = await within(arrived, 30_000, `freshness sample ${i + 1}`)
      all.push({ delayMs: at - start, ackMs: acked - start })
      await sleep(settings.spacingMs)
    }
    const delays = all.map((s) => s.delayMs)
    const acks = all.map((s) => s.ackMs)
    return {
      samples: all.length,
      streams: chosen.length,
      debounceMs: settings.debounceMs,
      delayMs: { median: median(delays), p99: percentile(delays, 99), min: Math.min(...delays), max: Math.max(...delays) },
      ackMs: { median: median(acks), p99: percentile(acks, 99) },
      all,
    }
  } finally {
    for (const call of calls) call.cancel()
  }
}

// ---------------------------------------------------------------- report ----

function summarize(runs: Run[], target: Target) {
  const mine = runs.filter((r) => r.target === target)
  return { perSecond: median(mine.map((r) => r.perSecond)), runs: mine }
}

interface Report {
  startedAt: Date
  result: Record<'rawKafkajs' | 'pipeline' | 'bareBullmq' | 'rollups', ReturnType<typeof summarize>>
  pipelineDetail: { appliedPerSecond: number; rollupsPerSecond: number; rollups: number }
  ratios: { pipelineOverRawKafkajs: number; factsOverRawKafkajs: number; rollupsOverBareBullmq: number }
  fresh: Freshness
  machine: ReturnType<typeof machineInfo>
  command: string
  saved: string
}

function report({ startedAt, result, pipelineDetail, ratios, fresh, machine, command, saved }: Report): string[] {
  const runsOf = (t: keyof typeof result) => result[t].runs.map((r) => fmt(r.perSecond, 0)).join(', ')
  const pipelineRuns = result.pipeline.runs.map((r) => r.pipeline!)
  return [
    `## Stats pipeline vs raw kafkajs and bare BullMQ (${startedAt.toISOString().slice(0, 10)})`,
    '',
    `Median of ${settings.rounds} rounds, each: raw kafkajs, pipeline (${settings.events} events, ${settings.customers} customers), ` +
      `bare BullMQ and rollups (${settings.jobs} jobs each). STATS_ROLLUP_DEBOUNCE_MS=${settings.debounceMs}.`,
    '',
    ...markdownTable(
      ['target', { title: 'per second', align: 'right' }, 'runs'],
      [
        ['raw kafkajs consumer (eachMessage, decode)', `${fmt(result.rawKafkajs.perSecond, 0)} events`, runsOf('rawKafkajs')],
        ["pipeline, events to every customer's stats", `${fmt(result.pipeline.perSecond, 0)} events`, runsOf('pipeline')],
        [
          'pipeline, events to facts recorded',
          `${fmt(pipelineDetail.appliedPerSecond, 0)} events`,
          pipelineRuns.map((p) => fmt(p.appliedPerSecond, 0)).join(', '),
        ],
        [
          `pipeline, rollups while events flow (${fmt(pipelineDetail.rollups, 0)} per run)`,
          `${fmt(pipelineDetail.rollupsPerSecond, 0)} rollups`,
          pipelineRuns.map((p) => fmt(p.rollupsPerSecond, 0)).join(', '),
        ],
        ['bare BullMQ (no-op, concurrency 2)', `${fmt(result.bareBullmq.perSecond, 0)} jobs`, runsOf('bareBullmq')],
        [
          "service rollups, customers marked and swept (rounds of the run's customers)",
          `${fmt(result.rollups.perSecond, 0)} rollups`,
          runsOf('rollups'),
        ],
      ],
    ),
    '',
    ...markdownTable(
      ['ratio', { title: 'value', align: 'right' }],
      [
        ['pipeline (end to end) / raw kafkajs', `${fmt(ratios.pipelineOverRawKafkajs)}x`],
        ['pipeline (facts) / raw kafkajs', `${fmt(ratios.factsOverRawKafkajs)}x`],
        ['rollups / bare BullMQ', `${fmt(ratios.rollupsOverBareBullmq)}x`],
      ],
    ),
    '',
    `Freshness (publish of OrderCompleted to the WatchCustomerStats message), ${fresh.samples} samples over ${fresh.streams} streams: ` +
      `median ${fmt(fresh.delayMs.median)} ms, p99 ${fmt(fresh.delayMs.p99)} ms (min ${fmt(fresh.delayMs.min)}, max ${fmt(fresh.delayMs.max)}), ` +
      `of which the debounce is ${settings.debounceMs} ms and the producer ack median ${fmt(fresh.ackMs.median)} ms.`,
    '',
    `Machine: ${describeMachine(machine)}.`,
    '',
    `Reproduce: \`${command}\``,
    '',
    `Saved: ${relative(REPO, saved)}`,
  ]
}

// ------------------------------------------------------------------- main ----

async function main(): Promise<void> {
  const startedAt = new Date()
  const { infra, source } = await ensureInfra()
  const issuer = await testIssuer()
  const token = await issuer.mint({ sub: 'bench', roles: ['support', 'operator'] }, { expiresIn: 3600 })
  const env = isolatedEnv('customer', infra, {
    ...issuer.env,
    LOG_LEVEL: 'silent',
    HEALTH_INTERVAL_MS: '2000',
    STATS_ROLLUP_DEBOUNCE_MS: String(settings.debounceMs),
  })
  const config = readConfig(env)
  const log = createLogger({ level: 'silent', service: 'bench', instanceId: 'bench' })
  note(`infra from ${source}; schema ${env['DB_SCHEMA']}; migrating`)
  await migrateCustomer(config, log)

  const kafka = createKafka(config.kafka, log)
  const admin = kafka.admin()
  const producer = kafka.producer()
  const db = pgClient(env, 'brewmesh-bench-stats')
  const jobsConnection = createValkey(config.valkey, log, 'jobs')
  const tap = new RollupTap(createValkey(config.valkey, log, 'subscriber'))
  const orderTopic = topicName(config.kafka, TOPICS.orderEvents)
  // The service's own queue (same name and prefix as in app.ts), for the rollup-capacity runs.
  const serviceQueue = new bullmq.Queue(STATS_QUEUE, { connection: jobsConnection, prefix: `${config.valkey.keyPrefix}:${config.service}` })
  // The statistics consumer's scheduler on that queue and the service's own marks (bullmq is loaded
  // from the Customer service's dependencies, so its Queue is the one the scheduler is typed for).
  const schedule = rollupScheduler(
    serviceQueue as unknown as Parameters<typeof rollupScheduler>[0],
    pendingRollups(jobsConnection, pendingRollupsKey(config.valkey.keyPrefix)),
    0,
    () => true,
    log,
  )
  let app: RunningService | undefined
  let client: CustomerServiceClient | undefined
  try {
    app = await startApp(config)
    await within(app.ready, 60_000, 'order stats consumer group join')
    await Promise.all([admin.connect(), producer.connect(), db.connect(), serviceQueue.waitUntilReady()])
    await tap.listen(`${config.valkey.keyPrefix}:customer-stats`)
    client = new CustomerServiceClient(`127.0.0.1:${app.grpcPort}`, credentials.createInsecure(), { interceptors: [bearer(token)] })
    const ctx = { producer, orderTopic, db, tap }
    const suffix = config.kafka.topicSuffix
    const jobsPrefix = `${config.valkey.keyPrefix}:bench`
    note(
      `${settings.rounds} rounds of raw kafkajs / pipeline (${settings.events} events, ${settings.customers} customers) / ` +
        `bare BullMQ / rollups (${settings.jobs} jobs); debounce ${settings.debounceMs} ms`,
    )

    // Warmup (thrown away): connections, JIT, the service's statements and Lua scripts.
    const warm = await pipelineRun(ctx, 0, Math.min(500, settings.events))
    await rawKafkaRun(kafka, admin, producer, suffix, 0, Math.min(500, settings.events))
    await bareBullRun(jobsConnection, jobsPrefix, 0, Math.min(200, settings.jobs))
    await rollupRun(schedule, tap, warm.batch.customers, 0, Math.min(200, settings.jobs))
    note('warmup done')

    const runs: Run[] = []
    let customersWithStats: string[] = warm.batch.customers
    const show = (r: Run) =>
      note(
        `round ${r.round} ${r.target.padEnd(11)} ${fmt(r.perSecond, 0)}/s  ${r.items} in ${fmt(r.seconds)} s  (load ${fmt(r.loadBefore)} before)` +
          (r.pipeline
            ? `  facts ${fmt(r.pipeline.appliedPerSecond, 0)}/s, ${r.pipeline.rollups} rollups (${fmt(r.pipeline.rollupsPerSecond, 0)}/s), produce ${fmt(r.pipeline.produceSeconds)} s`
            : ''),
      )
    for (let round = 1; round <= settings.rounds; round++) {
      const raw = await rawKafkaRun(kafka, admin, producer, suffix, round, settings.events)
      show(raw)
      const { run: pipe, batch } = await pipelineRun(ctx, round, settings.events)
      show(pipe)
      customersWithStats = batch.customers
      const bare = await bareBullRun(jobsConnection, jobsPrefix, round, settings.jobs)
      show(bare)
      const roll = await rollupRun(schedule, tap, batch.customers, round, settings.jobs)
      show(roll)
      runs.push(raw, pipe, bare, roll)
    }

    note(`freshness: ${settings.samples} samples over ${Math.min(settings.streams, customersWithStats.length)} open streams`)
    const fresh = await freshness(client, producer, orderTopic, customersWithStats)
    note(`freshness median ${fmt(fresh.delayMs.median)} ms, p99 ${fmt(fresh.delayMs.p99)} ms (debounce ${settings.debounceMs} ms)`)

    const result = {
      rawKafkajs: summarize(runs, 'raw-kafkajs'),
      pipeline: summarize(runs, 'pipeline'),
      bareBullmq: summarize(runs, 'bare-bullmq'),
      rollups: summarize(runs, 'rollups'),
    }
    const pipelineRuns = result.pipeline.runs.map((r) => r.pipeline!)
    const pipelineDetail = {
      appliedPerSecond: median(pipelineRuns.map((p) => p.appliedPerSecond)),
      rollupsPerSecond: median(pipelineRuns.map((p) => p.rollupsPerSecond)),
      rollups: median(pipelineRuns.map((p) => p.rollups)),
      produceSeconds: median(pipelineRuns.map((p) => p.produceSeconds)),
    }
    const ratios = {
      pipelineOverRawKafkajs: result.pipeline.perSecond / result.rawKafkajs.perSecond,
      factsOverRawKafkajs: pipelineDetail.appliedPerSecond / result.rawKafkajs.perSecond,
      rollupsOverBareBullmq: result.rollups.perSecond / result.bareBullmq.perSecond,
    }
    const machine = machineInfo()
    const command = reproduceCommand('bench/stats-pipeline.bench.ts', SETTING_VARS)
    const saved = saveResults(datedFileName('stats-pipeline', startedAt), {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      settings,
      machine,
      infra: source,
      ratios,
      ...result,
      pipelineDetail,
      freshness: fresh,
      command,
    })
    const lines = report({ startedAt, result, pipelineDetail, ratios, fresh, machine, command, saved })
    process.stdout.write(lines.join('\n') + '\n')
  } finally {
    client?.close()
    await app?.stop()
    await serviceQueue.close().catch(() => undefined)
    await producer.disconnect().catch(() => undefined)
    await admin
      .deleteTopics({ topics: [orderTopic, deadLetterTopic(orderTopic), topicName(config.kafka, TOPICS.customerEvents)] })
      .catch(() => undefined)
    await admin.disconnect().catch(() => undefined)
    await db.end().catch(() => undefined)
    await closeValkey(tap.subscriber).catch(() => undefined)
    await closeValkey(jobsConnection).catch(() => undefined)
    await dropSchema(env).catch((err: unknown) => note(`could not drop schema ${env['DB_SCHEMA']}: ${(err as Error).message}`))
  }
}

await runBench(main)
