import { runService } from '@brewmesh/runtime/service'
import { createKafka } from '@brewmesh/runtime/kafka'
import { createLogger } from '@brewmesh/runtime/logger'
import { closeValkey, createValkey } from '@brewmesh/runtime/valkey'
import { readConfig, type OpsConfig } from './config.ts'
import { deploymentTopics } from './deployment-topics.ts'
import { deadLetterTopicOf, readDeadLetters, replayDeadLetters, type DeadLetter } from './dead-letters.ts'
import { startExporter } from './exporter.ts'
import { failedJobs, queuePrefix, queuesOf, retryFailedJobs } from './failed-jobs.ts'

const USAGE = `usage: pnpm ops <command>   (the services' environment: KAFKA_BROKERS, KAFKA_TOPIC_SUFFIX, VALKEY_*)
  exporter                                 serve consumer lag and dead-letter sizes on METRICS_PORT (9466) /metrics,
                                           read every EXPORTER_READ_INTERVAL_MS (10000)
  dlq list TOPIC                           the dead letters of TOPIC (e.g. brewmesh.order.events.v1), decoded
  dlq replay TOPIC POSITION...             send them back to TOPIC (positions as listed: <partition>:<offset>)
  jobs failed SERVICE [QUEUE...]           failed jobs of a service's queues (all of them by default)
  jobs retry SERVICE QUEUE [JOB_ID...]     retry those failed jobs (every failed job of QUEUE by default)`

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2))
const shown = ({ message: _message, ...letter }: DeadLetter) => letter

async function exporter(config: OpsConfig) {
  await runService(async () => {
    const log = createLogger({ level: config.log.level, service: 'ops', instanceId: config.instanceId })
    const running = await startExporter({
      kafka: createKafka(config.kafka, log),
      topics: deploymentTopics(config.kafka.topicSuffix),
      metrics: config.metrics,
      instanceId: config.instanceId,
      log,
      read: { intervalMs: config.exporter.readIntervalMs, budgetMs: config.exporter.readBudgetMs },
    })
    return { log, stop: running.stop }
  })
}

async function dlq(config: OpsConfig, [action, topic, ...positions]: string[]) {
  if (!topic || (action !== 'list' && action !== 'replay') || (action === 'replay' && !positions.length)) return usage()
  const log = createLogger({ level: 'warn', service: 'ops', instanceId: config.instanceId })
  const kafka = createKafka(config.kafka, log)
  const suffix = config.kafka.topicSuffix
  const dead = deadLetterTopicOf(topic, suffix)
  if (action === 'list') return print((await readDeadLetters(kafka, dead, suffix)).map(shown))
  const sent = await replayDeadLetters(kafka, dead, suffix, positions)
  for (const l of sent) console.log(`replayed ${dead} ${l.position} (event ${l.eventId ?? '?'}) to ${l.origin.topic}`)
}

async function jobs(config: OpsConfig, [action, service, ...rest]: string[]) {
  if (!service || (action !== 'failed' && action !== 'retry') || (action === 'retry' && !rest[0])) return usage()
  const log = createLogger({ level: 'warn', service: 'ops', instanceId: config.instanceId })
  const valkey = createValkey(config.valkey, log, 'jobs')
  const prefix = queuePrefix(config.valkey.keyPrefix, service)
  try {
    if (action === 'failed') return print(await failedJobs(valkey, prefix, rest.length ? rest : await queuesOf(valkey, prefix)))
    const [queue, ...ids] = rest as [string, ...string[]]
    const retried = await retryFailedJobs(valkey, prefix, queue, ids)
    console.log(`retried ${retried.length} job(s) of ${queue}: ${retried.join(' ')}`)
  } finally {
    await closeValkey(valkey)
  }
}

function usage(): never {
  console.error(USAGE)
  process.exit(2)
}

// Read config, run the command. Nothing else belongs here.
const [command, ...args] = process.argv.slice(2)
const config = readConfig()
try {
  if (command === 'exporter') await exporter(config)
  else if (command === 'dlq') await dlq(config, args)
  else if (command === 'jobs') await jobs(config, args)
  else usage()
} catch (err) {
  console.error(`brewmesh-ops: ${(err as Error).message}`)
  process.exit(1)
}
