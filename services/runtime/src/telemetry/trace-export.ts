/** Where a process sends its spans: an OTLP endpoint (a Collector, Jaeger) or a Zipkin server. */
export type TraceExport = 'otlp' | 'zipkin'

const EXPORTERS = ['otlp', 'zipkin', 'none'] as const

/**
 * The trace exporter the standard OpenTelemetry variables ask for, or undefined when tracing is
 * off: OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none, or `otlp` (the default) without an
 * endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT). `zipkin` needs no
 * endpoint of its own: OTEL_EXPORTER_ZIPKIN_ENDPOINT defaults to http://localhost:9411/api/v2/spans.
 * Read by the preload before any config.ts, so an exporter it cannot honour fails the start here,
 * naming the variable, rather than leaving a mesh silently untraced.
 */
export function traceExportOf(env: Readonly<Record<string, string | undefined>>): TraceExport | undefined {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase() || 'otlp'
  if (!(EXPORTERS as readonly string[]).includes(exporter))
    throw new Error(`OTEL_TRACES_EXPORTER: "${exporter}" is not one of ${EXPORTERS.join(', ')}`)
  if (exporter === 'zipkin') return 'zipkin'
  if (exporter === 'otlp' && (env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'])) return 'otlp'
  return undefined
}
