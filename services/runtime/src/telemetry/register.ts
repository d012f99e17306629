/**
 * The preload of every service (`node --import`), before the app loads: Node's compile cache,
 * then tracing if it is configured.
 *
 * The compile cache keeps V8's compiled code of every module (ours after type stripping, and the
 * libraries') on disk (NODE_COMPILE_CACHE, else the OS temp directory), which halves module loading
 * from the second start on: a restarted replica is SERVING sooner.
 *
 * Tracing is opt-in: only when an exporter is configured (trace-export.ts: an OTLP endpoint, in
 * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_TRACES_EXPORTER=zipkin;
 * and OTEL_SDK_DISABLED is not "true") is the SDK loaded (tracing.ts): ES modules patched through
 * the loader hook, spans exported over OTLP or to Zipkin, trace context carried across gRPC, Kafka
 * and BullMQ. Otherwise nothing is loaded, patched or exported and the OpenTelemetry API stays a
 * no-op: no spans, no trace ids in logs, no traceparent handed on. A mesh is traced as a whole or
 * not at all.
 *
 * This preload runs before any config.ts, so it reads the standard OTEL_* variables itself.
 */
import { enableCompileCache } from 'node:module'
import { traceExportOf } from './trace-export.ts'

enableCompileCache()

if (traceExportOf(process.env)) await import('./tracing.ts')
