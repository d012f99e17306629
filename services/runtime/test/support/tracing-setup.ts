// Loaded by vitest's `traced` project before any test module: tracing with the instrumentations
// the services run with (src/telemetry/instrumentations.ts) and an in-memory exporter, so a test can assert the spans a request makes.
// It must run before @grpc/grpc-js and pg are loaded, hence a setup file rather than an import.
import { createRequire } from 'node:module'
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { spans } from '../../src/telemetry/in-memory.ts'
import { instrumentations } from '../../src/telemetry/instrumentations.ts'

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] })
trace.setGlobalTracerProvider(provider)
registerInstrumentations({
  tracerProvider: provider,
  instrumentations: instrumentations({ shipLogs: false }),
})

// Load grpc-js now, after the instrumentation and before any generated client module: the first
// generated client would otherwise be made by the unpatched constructor (its client calls would
// neither make spans nor carry the trace).
createRequire(import.meta.url)('@grpc/grpc-js')
