/**
 * The tracing SDK (loaded by register.ts only when an exporter is configured: trace-export.ts).
 * ES modules are only patched through the loader hook, so it is registered first. Spans go where
 * OTEL_TRACES_EXPORTER says: `otlp` (the default; OTLP/HTTP protobuf to the OTEL_EXPORTER_OTLP_*
 * endpoint) or `zipkin` (Zipkin's JSON v2 to OTEL_EXPORTER_ZIPKIN_ENDPOINT, default
 * http://localhost:9411/api/v2/spans), which is what `scripts/up.sh --observe` runs without Docker.
 * Sampling follows the standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG variables (default:
 * every trace).
 */
import { createRequire, register } from 'node:module'
import { diag } from '@opentelemetry/api'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin'
import { diagLevelOf, jsonDiagLogger } from './diag-log.ts'
import { instrumentations } from './instrumentations.ts'
import { traceExportOf } from './trace-export.ts'

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url)

// Logs over OTLP (each record with its trace and span ids) only when asked for with
// OTEL_LOGS_EXPORTER=otlp: the backend must take logs (a Collector does; Jaeger and Zipkin do not). Without
// it no logger provider is set up at all, and logs stay on stdout as JSON (they carry trace_id and
// span_id there too: logger.ts).
const shipLogs = (process.env['OTEL_LOGS_EXPORTER'] ?? '').split(',').some((e) => e.trim() === 'otlp')
if (!shipLogs) process.env['OTEL_LOGS_EXPORTER'] = 'none'

const serviceName = process.env['OTEL_SERVICE_NAME'] ?? 'brewmesh'
// The SDK's warnings and errors (spans it dropped because the exporter failed) as JSON log lines.
// Set before the SDK is made: it would otherwise install a plain-text console logger when
// OTEL_LOG_LEVEL is set, and say nothing when it is not.
const diagLevel = diagLevelOf(process.env)
delete process.env['OTEL_LOG_LEVEL']
diag.setLogger(
  jsonDiagLogger(serviceName, (line) => process.stdout.write(line)),
  { logLevel: diagLevel, suppressOverrideMessage: true },
)

const sdk = new NodeSDK({
  serviceName,
  traceExporter: traceExportOf(process.env) === 'zipkin' ? new ZipkinExporter() : new OTLPTraceExporter(),
  // Metrics are per app (telemetry/metrics.ts), not from the global SDK.
  metricReaders: [],
  instrumentations: instrumentations({ shipLogs }),
})
sdk.start()
// Load grpc-js now, once the instrumentation is on and before any generated client module: the
// first generated client would otherwise be made by the unpatched constructor, and its calls
// would neither make spans nor carry the trace to the next service.
createRequire(import.meta.url)('@grpc/grpc-js')

// The spans still queued go out on the way out; a failure there is said, like one on the way.
const shutdown = () => void sdk.shutdown().catch((e: unknown) => diag.error('spans not exported at shutdown:', e))
process.once('beforeExit', shutdown)
