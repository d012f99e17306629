// Run with the telemetry preload (register.ts) by otlp-logs.int.test.ts: logs one line inside a
// span, prints the span's trace id, and exits (the SDK flushes on its way out).
import { trace } from '@opentelemetry/api'
import { createLogger } from '../../src/logger.ts'

const log = createLogger({ level: 'info', service: 'otlp-logs-test', instanceId: 'child' })
trace.getTracer('otlp-logs-test').startActiveSpan('work', (span) => {
  log.info('a line that travels over OTLP')
  process.stdout.write(`${span.spanContext().traceId}\n`)
  span.end()
})
