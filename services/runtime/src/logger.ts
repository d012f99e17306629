import { trace } from '@opentelemetry/api'
import { pino, type Logger } from 'pino'

export type { Logger }

/** The one root logger of a process: JSON lines carrying the active trace and span ids. */
export function createLogger(options: { level: string; service: string; instanceId: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, instance: options.instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Never log credentials, even when a caller puts them in an object we log.
    redact: { paths: ['*.password', '*.authorization', 'authorization', 'password'], censor: '[redacted]' },
    mixin() {
      const span = trace.getActiveSpan()
      if (!span) return {}
      const { traceId, spanId } = span.spanContext()
      return { trace_id: traceId, span_id: spanId }
    },
  })
}
