import type { Kafka } from 'kafkajs'
import type { Logger } from '@brewmesh/runtime/logger'
import { startMetrics, type Metrics } from '@brewmesh/runtime/telemetry'
import { readKafkaState } from './kafka-state.ts'
import { startPeriodicRead } from './periodic-read.ts'

export interface Exporter {
  port: number
  stop(): Promise<void>
}

/** How the exporter reads the broker (defaults in parentheses). */
export interface ReadOptions {
  /** Pause between the end of one read and the start of the next (10 s). */
  intervalMs?: number
  /** A read in progress longer than this reports brewmesh_kafka_state_up 0 (30 s). */
  budgetMs?: number
  /** Consumer groups whose offsets are fetched at once (8). */
  concurrency?: number
}

/**
 * What no service can report about itself, read from the Kafka broker (one exporter per
 * deployment, so no sum across replicas is needed):
 *   brewmesh_consumer_lag{group,topic}         messages after the group's committed offsets
 *   brewmesh_dead_letters{topic,origin}        messages held by a dead-letter topic
 *   brewmesh_kafka_state_up                    1 when the latest read answered within its budget
 *   brewmesh_kafka_read_age_seconds            how old the read the lag and dead letters come from is
 * The broker is read in the background (startPeriodicRead), not when Prometheus scrapes: reading
 * every consumer group of a busy broker can take longer than a scrape timeout, so a scrape answers
 * at once from the latest read, whatever the broker is doing. While reads fail, the lag and dead
 * letters of the last good read stay (the OpenTelemetry SDK keeps serving a series once observed),
 * with state_up 0 and a growing age saying how old they are.
 */
export async function startExporter(options: {
  kafka: Kafka
  /** The deployment's topics (deploymentTopics): lag and dead letters of no other topic are read. */
  topics: readonly string[]
  metrics: { port: number; host?: string }
  instanceId: string
  log: Logger
  read?: ReadOptions
}): Promise<Exporter> {
  const { log } = options
  const metrics: Metrics = await startMetrics({ service: 'ops', instanceId: options.instanceId, ...options.metrics })
  const admin = options.kafka.admin()
  const reads = startPeriodicRead({
    read: async () => {
      const started = Date.now()
      await admin.connect()
      const state = await readKafkaState(admin, options.topics, options.read?.concurrency)
      // How long a read takes against how many groups: what EXPORTER_READ_BUDGET_MS is set from.
      log.debug({ groups: state.groupsRead, lags: state.lags.length, ms: Date.now() - started }, 'read consumer lag and dead letters')
      return state
    },
    intervalMs: options.read?.intervalMs ?? 10_000,
    budgetMs: options.read?.budgetMs ?? 30_000,
    log,
  })
  const meter = metrics.meter
  const lag = meter.createObservableGauge('brewmesh_consumer_lag', {
    description: 'messages after a consumer group’s committed offsets, by group and topic',
  })
  const dead = meter.createObservableGauge('brewmesh_dead_letters', {
    description: 'messages held by a dead-letter topic, by topic and origin topic',
  })
  const up = meter.createObservableGauge('brewmesh_kafka_state_up', {
    description: '1 when the latest read of the broker answered within its budget, else 0',
  })
  const age = meter.createObservableGauge('brewmesh_kafka_read_age_seconds', {
    description: 'seconds since the read that consumer lag and dead letters come from began',
    unit: 's',
  })
  meter.addBatchObservableCallback(
    (result) => {
      const state = reads.state()
      for (const l of state.value?.lags ?? []) result.observe(lag, l.lag, { group: l.group, topic: l.topic })
      for (const d of state.value?.deadLetters ?? []) result.observe(dead, d.messages, { topic: d.topic, origin: d.origin })
      result.observe(up, state.up ? 1 : 0)
      if (state.ageSeconds !== undefined) result.observe(age, state.ageSeconds)
    },
    [lag, dead, up, age],
  )
  log.info({ metricsPort: metrics.port, topics: options.topics }, 'ops exporter started')
  return {
    port: metrics.port,
    async stop() {
      await metrics.stop()
      reads.stop()
      await admin.disconnect()
    },
  }
}
