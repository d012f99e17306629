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

/**
 * Runs work in a new span continuing a stored traceparent (work set off by a request and done
 * later, found in a table). The span ends when the work's promise settles. Without a traceparent,
 * or without tracing, the work runs as it is.
 */
export function inTraceOf(traceparent: string | null | undefined, name: string, attributes: Attributes): <R>(work: () => R) => R {
  return (work) => {
    if (!traceparent) return work()
    const parent = contextOf(traceparent)
    const span = tracer().startSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent)
    const result = context.with(trace.setSpan(parent, span), work)
    if (!(result instanceof Promise)) {
      span.end()
      return result
    }
    return result.then(
      (value: unknown) => (span.end(), value),
      (err: unknown) => {
        span.recordException(err as Error)
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message })
        span.end()
        throw err
      },
    ) as typeof result
  }
}

/** A span started now and ended by the caller (a batch send that covers many messages). */
export function startSpan(name: string, kind: SpanKind, parent: Context, attributes: Attributes): Span {
  return tracer().startSpan(name, { kind, attributes }, parent)
}

export { SpanKind }
