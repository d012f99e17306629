// Run with the telemetry preload (register.ts) by otlp-logs.int.test.ts and zipkin.int.test.ts:
// logs one line inside a span, prints the span's trace id (`trace-id <hex>`, among the log lines on
// stdout), and exits (the SDK flushes on its way out), after TRACED_CHILD_LINGER_MS if set (a
// running process, whose spans the batch timer exports).
import { trace } from '@opentelemetry/api'
import { createLogger } from '../../src/logger.ts'

const log = createLogger({ level: 'info', service: 'traced-child', instanceId: 'child' })
trace.getTracer('traced-child').startActiveSpan('work', (span) => {
  log.info('a line that travels over OTLP')
  process.stdout.write(`trace-id ${span.spanContext().traceId}\n`)
  span.end()
})
const linger = Number(process.env['TRACED_CHILD_LINGER_MS'] ?? 0)
if (linger > 0) await new Promise((resolve) => setTimeout(resolve, linger))
