import { DiagLogLevel, type DiagLogger } from '@opentelemetry/api'

const LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
}

/**
 * How much the OpenTelemetry SDK says about itself: the standard OTEL_LOG_LEVEL (none, error,
 * warn, info, debug, verbose, all), `warn` when unset, so a batch of spans an exporter could not
 * deliver (the backend down or too slow: the SDK drops them, it never retries) is in the log.
 */
export function diagLevelOf(env: Readonly<Record<string, string | undefined>>): DiagLogLevel {
  const name = env['OTEL_LOG_LEVEL']?.trim().toLowerCase() || 'warn'
  const level = LEVELS[name]
  if (level === undefined) throw new Error(`OTEL_LOG_LEVEL: "${name}" is not one of ${Object.keys(LEVELS).join(', ')}`)
  return level
}

/**
 * The SDK's own messages as JSON lines shaped like the service's log (logger.ts: level label,
 * ISO time, service), with `component: "opentelemetry"`. The SDK starts before the app and its
 * pino logger, so this writes the line itself. The SDK hands errors it caught (a failed export)
 * over as the error's properties in JSON: their message becomes `msg`, the rest `err`.
 */
export function jsonDiagLogger(service: string, write: (line: string) => void): DiagLogger {
  const line =
    (level: string) =>
    (message: string, ...args: unknown[]) => {
      const err = caughtError(message)
      const detail = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')
      const msg = err ? String(err['message']) : detail ? `${message} ${detail}` : message
      write(`${JSON.stringify({ level, time: new Date().toISOString(), service, component: 'opentelemetry', msg, ...(err && { err }) })}\n`)
    }
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug'), verbose: line('trace') }
}

/** An error the SDK's global error handler stringified (`{"message": ..., "stack": ...}`), or undefined. */
function caughtError(message: string): Record<string, unknown> | undefined {
  if (!message.startsWith('{')) return undefined
  try {
    const parsed: unknown = JSON.parse(message)
    return parsed && typeof parsed === 'object' && 'message' in parsed ? parsed : undefined
  } catch {
    return undefined
  }
}
