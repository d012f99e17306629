import { runService } from '@brewmesh/runtime/service'
import { createKafka } from '@brewmesh/runtime/kafka/client.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import { readConfig } from './config.ts'
import { startExporter } from './exporter.ts'
import { ofDeployment } from './kafka-state.ts'

const USAGE = `usage: brewmesh-ops <command>
  exporter                       serve consumer lag and dead-letter sizes on METRICS_PORT (9465) /metrics`

// Read config, run the command. Nothing else belongs here.
const [command] = process.argv.slice(2)
if (command === 'exporter') {
  await runService(async () => {
    const config = readConfig()
    const log = createLogger({ level: config.log.level, service: 'ops', instanceId: config.instanceId })
    const exporter = await startExporter({
      kafka: createKafka(config.kafka, log),
      wanted: ofDeployment(config.kafka.topicSuffix),
      metrics: config.metrics,
      instanceId: config.instanceId,
      log,
    })
    return { log, stop: exporter.stop }
  })
} else {
  console.error(USAGE)
  process.exit(command ? 2 : 0)
}
