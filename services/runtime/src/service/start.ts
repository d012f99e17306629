import type { Queue } from 'bullmq'
import type { Producer } from 'kafkajs'
import { createTokenVerifier } from '../auth/verifier.ts'
import type { BaseConfig } from '../config.ts'
import { purgeOutbox } from '../db/outbox.ts'
import { createDatabase, poolMetrics } from '../db/postgres.ts'
import { createGrpcServer } from '../grpc/server.ts'
import { startHealthMonitor } from '../health.ts'
import { createQueue, createWorker, keepScheduled, queueMetrics } from '../jobs.ts'
import { createKafka, createProducer, ensureTopics, pingKafka, TOPIC_PARTITIONS, topicName } from '../kafka/client.ts'
import { deadLetterTopic, startConsumer } from '../kafka/consumer.ts'
import { createOutboxRelay } from '../kafka/outbox-relay.ts'
import { keepTrying, lazy, stopInReverse, together, type Stoppable } from '../lifecycle.ts'
import { createLogger, type Logger } from '../logger.ts'
import { backgroundConsumer, jobPart } from '../parts.ts'
import { createRateLimiter } from '../rate-limit.ts'
import { startMetrics } from '../telemetry/metrics.ts'
import { closeValkey, createValkey } from '../valkey.ts'
import {
  PER_REPLICA_WINDOW_MS,
  type Consumption,
  type Infrastructure,
  type Job,
  type RunningService,
  type ServiceDeclaration,
} from './declaration.ts'

export interface StartOptions {
  config: BaseConfig
  /** The gRPC service whose health is published besides the server's ("" ). */
  serviceName: string
  log?: Logger
  clock?: () => Date
}

/**
 * Starts a declared service. The order, and its reverse at stop:
 *   metrics, PostgreSQL, Valkey (commands, jobs), Kafka admin  (infrastructure)
 *   the service's own parts                                     (declare(): stores, clients)
 *   outbox relay, consumers, jobs                               (in the background: they retry until
 *                                                                Kafka and Valkey answer)
 *   gRPC server, health                                         (SERVING once PostgreSQL answers)
 * Stopping: NOT_SERVING, the server drains, jobs and consumers stop (consumers together), the
 * relay publishes what is pending, connections close. A start that fails half-way stops what it
 * started.
 */
export async function startService<DB>(
  options: StartOptions,
  declare: (infra: Infrastructure<DB>) => ServiceDeclaration | Promise<ServiceDeclaration>,
): Promise<RunningService> {
  const { config } = options
  const log = options.log ?? createLogger({ level: config.log.level, service: config.service, instanceId: config.instanceId })
  const parts: Stoppable[] = []
  try {
    return await start(options, declare, log, parts)
  } catch (err) {
    await stopInReverse(log, parts)()
    throw err
  }
}

async function start<DB>(
  options: StartOptions,
  declare: (infra: Infrastructure<DB>) => ServiceDeclaration | Promise<ServiceDeclaration>,
  log: Logger,
  parts: Stoppable[],
): Promise<RunningService> {
  const { config } = options
  const clock = options.clock ?? (() => new Date())
  const stopping = new AbortController()

  // Infrastructure.
  const metrics = await startMetrics({
    service: config.service,
    instanceId: config.instanceId,
    port: config.metrics.port,
    otlpEndpoint: config.telemetry.otlpEndpoint,
  })
  parts.push({ name: 'metrics', stop: metrics.stop })
  const meter = metrics.meter
  const database = createDatabase<DB>(config.postgres, log)
  poolMetrics(meter, config.service, database.pool)
  parts.push({ name: 'postgres', stop: database.stop })
  const valkey = createValkey(config.valkey, log, 'commands')
  parts.push({ name: 'valkey', stop: () => closeValkey(valkey) })
  const jobsConnection = createValkey(config.valkey, log, 'jobs')
  parts.push({ name: 'valkey jobs', stop: () => closeValkey(jobsConnection) })
  const jobsUp = () => jobsConnection.status === 'ready'
  const jobsPrefix = `${config.valkey.keyPrefix}:${config.service}`
  const kafka = createKafka(config.kafka, log)
  const admin = kafka.admin()
  parts.push({ name: 'kafka admin', stop: () => admin.disconnect() })

  const queues = new Map<string, Queue>()
  const queue = <T>(name: string): Queue<T> => {
    let q = queues.get(name)
    if (!q) queues.set(name, (q = createQueue(name, jobsConnection, jobsPrefix, log)))
    return q as Queue<T>
  }
  const own: Stoppable[] = []
  const infra: Infrastructure<DB> = {
    config,
    log,
    meter,
    clock,
    db: database.db,
    valkey,
    queue,
    jobsUp,
    topic: (base) => topicName(config.kafka, base),
    own: (part) => void own.push(part),
    retry: (name, attempt) => void keepTrying(name, attempt, stopping.signal, log),
    stopping: stopping.signal,
  }
  const declaration = await declare(infra)
  parts.push(together('own parts', own))
  parts.push({ name: 'background', stop: async () => stopping.abort() })

  // Events out.
  const relay = createOutboxRelay({
    db: database.db,
    pool: database.pool,
    schema: config.postgres.schema,
    producer: createProducer(kafka),
    log: log.child({ component: 'outbox' }),
    meter,
  })
  relay.start()
  parts.push({ name: 'outbox relay', stop: () => relay.stop() })

  // Topics: published, consumed, and the dead-letter topics of durable consumers (the dead-letter
  // producer never creates topics). One attempt at a time, again after a failure.
  const consumes = declaration.consumes ?? []
  const live = [...new Set([...declaration.publishes, ...consumes.flatMap((c) => c.topics)].map(infra.topic))]
  const dead = consumes.filter((c) => c.group === 'durable').flatMap((c) => c.topics.map((t) => deadLetterTopic(infra.topic(t))))
  const ensure = lazy(async () => {
    await admin.connect()
    await ensureTopics(admin, [
      ...live.map((topic) => ({ topic, numPartitions: TOPIC_PARTITIONS })),
      ...[...new Set(dead)].map((topic) => ({ topic, numPartitions: 1 })),
    ])
  })

  // Events in.
  const deadLetters = createProducer(kafka)
  const connected = lazy(async () => {
    await deadLetters.connect()
    return deadLetters
  })
  const consumers = consumes.map((c) => consumerPart(c, { config, kafka, log, ensure, stopping: stopping.signal, deadLetters: connected }))
  parts.push({ name: 'dead-letter producer', stop: () => deadLetters.disconnect() })
  parts.push(
    together(
      'consumers',
      consumers.map((c) => c.part),
    ),
  )

  // Jobs: the declared ones, and the outbox purge every publishing service needs.
  const jobs: Job[] = [...(declaration.jobs ?? []), outboxPurge(config, database.db, clock)]
  const running = jobs.map((job) => {
    const worker = createWorker(job.queue, job.processor, jobsConnection, jobsPrefix, log, job.concurrency ?? 1)
    const q = queue(job.queue)
    if (job.schedules?.length) {
      const schedules = job.schedules
      keepScheduled(
        jobsConnection,
        `${job.queue} schedulers`,
        async () => {
          for (const s of schedules) await q.upsertJobScheduler(s.id, { pattern: s.cron, tz: 'UTC' }, { name: s.job })
        },
        stopping.signal,
        log,
      )
    }
    return [q, worker] as const
  })
  queueMetrics(meter, config.service, running)
  // Queues only sent to (another service's, or one whose worker is elsewhere) still close.
  const workerless = [...queues.values()].filter((q) => !running.some(([r]) => r === q))
  parts.push(
    together(
      'jobs',
      running.flatMap(([q, worker]) => jobPart(q, worker, jobsUp)),
    ),
  )
  parts.push(
    together(
      'queues',
      workerless.map((q) => ({ name: `${q.name} queue`, stop: async () => void (jobsUp() ? await q.close() : undefined) })),
    ),
  )

  // The front door.
  const grpc = createGrpcServer({
    service: config.service,
    ...config.grpc,
    admission: config.admission,
    log,
    meter,
    verifyToken: await createTokenVerifier(config.auth),
    limitWrites: createRateLimiter({
      valkey,
      prefix: `${config.valkey.keyPrefix}:`,
      service: config.service,
      config: config.rateLimit,
      meter,
      log,
    }),
  })
  for (const s of declaration.grpc) grpc.serve(s.definition, s.routes)
  const health = startHealthMonitor({
    health: grpc.health,
    services: [options.serviceName],
    intervalMs: config.health.intervalMs,
    log,
    checks: [
      { name: 'postgres', required: true, check: database.ping },
      { name: 'valkey', required: false, check: async () => void (await valkey.ping()) },
      {
        name: 'kafka',
        required: false,
        check: async () => {
          await admin.connect()
          await pingKafka(admin, live)
        },
      },
      ...(declaration.checks ?? []),
    ],
  })
  const grpcPort = await grpc.listen()
  parts.push({ name: 'grpc server', stop: grpc.stop })
  parts.push({ name: 'health', stop: health.stop })
  await health.refresh()
  log.info({ grpcPort, metricsPort: metrics.port }, `${config.service} service started`)
  return {
    grpcPort,
    metricsPort: metrics.port,
    ready: Promise.all(consumers.map((c) => c.ready)).then(() => undefined),
    health,
    relay,
    log,
    stop: stopInReverse(log, parts),
  }
}

function consumerPart(
  c: Consumption,
  env: {
    config: BaseConfig
    kafka: ReturnType<typeof createKafka>
    log: Logger
    ensure: () => Promise<void>
    stopping: AbortSignal
    deadLetters: () => Promise<Producer>
  },
) {
  const { config, kafka, log } = env
  const durable = c.group === 'durable'
  // A durable group's effects must not wait for a listener.
  if (durable && c.audience) throw new Error(`consumer ${c.name}: only a per-replica feed can pause while nobody listens`)
  return backgroundConsumer(
    c.name,
    async () => {
      await env.ensure()
      return startConsumer({
        kafka,
        // Durable groups are one per deployment (the suffix keeps isolated test runs apart);
        // per-replica ones are this instance's own.
        groupId: durable ? `${c.name}${config.kafka.topicSuffix}` : `${c.name}-${config.instanceId}`,
        topics: c.topics.map((t) => topicName(config.kafka, t)),
        handler: c.handler,
        log: log.child({ component: c.name }),
        batchWindowMs: c.batchWindowMs ?? (durable ? 0 : PER_REPLICA_WINDOW_MS),
        ...(durable
          ? { producer: await env.deadLetters() }
          : { deadLetter: false, fromBeginning: false, commitOffsets: false, ...(c.audience ? { audience: c.audience } : {}) }),
      })
    },
    env.stopping,
    log,
  )
}

/** The daily purge of published outbox rows and old processed-event ids (<service>-outbox-purge). */
function outboxPurge(config: BaseConfig, db: Parameters<typeof purgeOutbox>[0], clock: () => Date): Job {
  return {
    queue: `${config.service}-outbox-purge`,
    processor: async () => purgeOutbox(db, config.retention.outboxDays, clock()),
    schedules: [{ id: 'outbox-purge-daily', cron: config.retention.cron, job: 'purge' }],
  }
}
