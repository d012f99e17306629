import { hostname } from 'node:os'
import { EnvReader, freeze, type KafkaConfig, type ValkeyConfig } from '@brewmesh/runtime/config'

/** What the operator's tools read: the brokers, the queues' Valkey, and where the exporter listens. */
export interface OpsConfig {
  instanceId: string
  kafka: KafkaConfig
  valkey: ValkeyConfig
  metrics: { port: number; host: string }
  /** How often the exporter reads the broker, and how long a read may take before it reports Kafka down. */
  exporter: { readIntervalMs: number; readBudgetMs: number }
  log: { level: string }
}

/** The same variable names as the services, so one environment (or .stack/env) serves both. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): OpsConfig {
  const reader = new EnvReader(env)
  const config: OpsConfig = {
    instanceId: reader.string('INSTANCE_ID', `ops-${hostname()}-${process.pid}`),
    kafka: {
      brokers: reader.list('KAFKA_BROKERS', ['127.0.0.1:9092']),
      clientId: reader.string('KAFKA_CLIENT_ID', 'brewmesh-ops'),
      topicSuffix: reader.string('KAFKA_TOPIC_SUFFIX', ''),
    },
    valkey: {
      host: reader.string('VALKEY_HOST', '127.0.0.1'),
      port: reader.int('VALKEY_PORT', 6379, { min: 1, max: 65535 }),
      keyPrefix: reader.string('VALKEY_KEY_PREFIX', 'brewmesh'),
    },
    metrics: { port: reader.int('METRICS_PORT', 9466, { min: 0, max: 65535 }), host: reader.string('METRICS_HOST', '0.0.0.0') },
    exporter: {
      readIntervalMs: reader.int('EXPORTER_READ_INTERVAL_MS', 10_000, { min: 100 }),
      readBudgetMs: reader.int('EXPORTER_READ_BUDGET_MS', 30_000, { min: 100 }),
    },
    log: { level: reader.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info') },
  }
  reader.done()
  return freeze(config)
}
