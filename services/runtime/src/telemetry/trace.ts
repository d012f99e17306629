import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api'

// One trace from a request to everything it causes: the W3C traceparent travels in Kafka headers
// (written with the outbox row, in the request's context) and in BullMQ job data; each hop starts
// its span as a child of it. Without a registered tracer provider these are no-ops.

const tracer = () => trace.getTracer('brewmesh')

/** The context a traceparent names (the current one when there is none). */
export function contextOf(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : context.active()
}

/** The traceparent of a span, to hand on to the next hop. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {}
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier)
  return carrier['traceparent']
}

/** Runs `work` in a new span (child of `parent`), recording a failure on it. */
export async function inSpan<T>(name: string, kind: SpanKind, parent: Context, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, parent)
  try {
    return await context.with(trace.setSpan(parent, span), work)
  } catch (err) {
    span.recordException(err as Error)
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message })
    throw err
  } finally {
    span.end()
  }
}

/** A span started now and ended by the caller (a batch send that covers many messages). */
export function startSpan(name: string, kind: SpanKind, parent: Context, attributes: Attributes): Span {
  return tracer().startSpan(name, { kind, attributes }, parent)
}

export { SpanKind }
