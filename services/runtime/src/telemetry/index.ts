// The telemetry area of runtime, for a process that is not a declared service (the edge): the
// metrics endpoint and spans around work that crosses a process boundary. Tracing itself is the
// preload, @brewmesh/runtime/telemetry/register.ts.
export { startMetrics, type Metrics } from './metrics.ts'
export { contextOf, inSpan, inTraceOf, SpanKind, startSpan, traceparentOf } from './trace.ts'
export { currentTraceparent } from '../kafka/headers.ts'
