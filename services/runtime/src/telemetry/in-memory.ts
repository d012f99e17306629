import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace'

// For span assertions in tests only (vitest's `traced` project records into it through
// test/support/tracing-setup.ts); services never load this module.

/** The spans finished in this test process. */
export const spans = new InMemorySpanExporter()

export { SpanKind } from '@opentelemetry/api'
export type { ReadableSpan }
