/**
 * Process-wide tracing, loaded before the app with `node --import`.
 * ES modules are only patched through the loader hook, so it is registered first.
 * Traces go over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise spans still exist
 * (so logs carry trace ids) but nothing is exported.
 */
import { createRequire, register } from 'node:module'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino'
import { IovalkeyInstrumentation } from './iovalkey-instrumentation.ts'

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url)

const sdk = new NodeSDK({
  serviceName: process.env['OTEL_SERVICE_NAME'] ?? 'brewmesh',
  ...(process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ? { traceExporter: new OTLPTraceExporter() } : {}),
  // Metrics are per app (telemetry/metrics.ts), not from the global SDK.
  metricReaders: [],
  instrumentations: [
    new GrpcInstrumentation(),
    new PgInstrumentation({ enhancedDatabaseReporting: false }),
    new PinoInstrumentation({ disableLogSending: true }),
    new IovalkeyInstrumentation(),
  ],
})
sdk.start()
// Load grpc-js now, once the instrumentation is on and before any generated client module: the
// first generated client would otherwise be made by the unpatched constructor, and its calls
// would neither make spans nor carry the trace to the next service.
createRequire(import.meta.url)('@grpc/grpc-js')

const shutdown = () => void sdk.shutdown().catch(() => undefined)
process.once('beforeExit', shutdown)
