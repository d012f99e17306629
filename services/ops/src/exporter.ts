import type { Kafka } from 'kafkajs'
import type { Logger } from '@brewmesh/runtime/logger'
import { startMetrics, type Metrics } from '@brewmesh/runtime/telemetry'
import { readKafkaState } from './kafka-state.ts'

export interface Exporter {
  port: number
  stop(): Promise<void>
}

/**
 * What no service can report about itself, read from the Kafka broker when Prometheus scrapes
 * (one exporter per deployment, so no sum across replicas is needed):
 *   brewmesh_consumer_lag{group,topic}         messages after the group's committed offsets
 *   brewmesh_dead_letters{topic,origin}        messages held by a dead-letter topic
 *   brewmesh_kafka_state_up                    1 when the last read answered, else 0
 * A scrape waits at most `timeoutMs` for the broker; unanswered, it reports only the 0.
 */
export async function startExporter(options: {
  kafka: Kafka
  /** The deployment's topics (deploymentTopics): lag and dead letters of no other topic are read. */
  topics: readonly string[]
  metrics: { port: number; host?: string }
  instanceId: string
  log: Logger
  timeoutMs?: number
}): Promise<Exporter> {
  const { log } = options
  const timeoutMs = options.timeoutMs ?? 5000
  const metrics: Metrics = await startMetrics({ service: 'ops', instanceId: options.instanceId, ...options.metrics })
  const admin = options.kafka.admin()
  const meter = metrics.meter
  const lag = meter.createObservableGauge('brewmesh_consumer_lag', {
    description: 'messages after a consumer group’s committed offsets, by group and topic',
  })
  const dead = meter.createObservableGauge('brewmesh_dead_letters', {
    description: 'messages held by a dead-letter topic, by topic and origin topic',
  })
  const up = meter.createObservableGauge('brewmesh_kafka_state_up', { description: '1 when the broker answered the last scrape, else 0' })
  let failing = false
  meter.addBatchObservableCallback(
    async (result) => {
      const read = (async () => {
        await admin.connect()
        return readKafkaState(admin, options.topics)
      })()
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref(),
      )
      try {
        const { lags, deadLetters } = await Promise.race([read, timeout])
        for (const l of lags) result.observe(lag, l.lag, { group: l.group, topic: l.topic })
        for (const d of deadLetters) result.observe(dead, d.messages, { topic: d.topic, origin: d.origin })
        result.observe(up, 1)
        if (failing) log.info('Kafka answers again')
        failing = false
      } catch (err) {
        result.observe(up, 0)
        if (!failing) log.warn({ err: (err as Error).message }, 'cannot read consumer lag and dead letters from Kafka')
        failing = true
      }
    },
    [lag, dead, up],
  )
  log.info({ metricsPort: metrics.port }, 'ops exporter started')
  return {
    port: metrics.port,
    async stop() {
      await metrics.stop()
      await admin.disconnect()
    },
  }
}
