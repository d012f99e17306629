import type { Instrumentation } from '@opentelemetry/instrumentation'
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino'
import { IovalkeyInstrumentation } from './iovalkey-instrumentation.ts'

/**
 * The gRPC methods that make no spans, server or client: health checks (a kubelet probes every
 * replica every few seconds) and server reflection (grpcurl's look-ups). The instrumentation
 * matches a server call by its method name alone, so these are names no brewmesh RPC takes.
 */
export const UNTRACED_GRPC_METHODS = /^(Check|Watch|List|ServerReflectionInfo)$/i

/**
 * What the tracing SDK instruments (telemetry/tracing.ts, and the `traced` test project, so the
 * tests see the spans production makes). A trace starts only where work starts: a gRPC request,
 * a consumed event, a job. PostgreSQL and Valkey make spans only inside one of those
 * (`requireParentSpan`): the health probes, the outbox relay's polling and the payment poller
 * would otherwise each be a trace of their own, several a second per replica, burying the
 * requests in the backend (and pushing them out of Zipkin's "newest traces" at once).
 */
export function instrumentations(options: { shipLogs: boolean }): Instrumentation[] {
  return [
    new GrpcInstrumentation({ ignoreGrpcMethods: [UNTRACED_GRPC_METHODS] }),
    new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    new PinoInstrumentation({ disableLogSending: !options.shipLogs }),
    new IovalkeyInstrumentation(),
  ]
}
