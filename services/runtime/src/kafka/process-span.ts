import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api'
import type { KafkaMessage } from 'kafkajs'
import { contextOf, SpanKind, startSpan } from '../telemetry/trace.ts'
import { headerString } from './headers.ts'

/** The CONSUMER span one message is processed in, as a child of the span that published it. */
export interface ProcessSpan {
  /** Runs `work` with this span active, so what it causes (outbox rows, jobs, queries) joins the message's trace. */
  inTrace<R>(work: () => R): R
  /** Records a failed attempt (the message may still succeed on a later one). */
  attemptFailed(err: unknown): void
  /** Ends the span (once); with an error when the message was dead-lettered or left unfinished. */
  end(err?: unknown): void
}

/**
 * Starts the span of a message taken from `topic` by `groupId`, continuing the trace in its
 * `traceparent` header. Without a registered tracer provider the span is a no-op and nothing
 * else is computed: the attributes are only read for a span that records.
 */
export function processSpan(topic: string, groupId: string, message: KafkaMessage): ProcessSpan {
  const parent = contextOf(headerString(message.headers, 'traceparent'))
  const span: Span = startSpan(`${topic} process`, SpanKind.CONSUMER, parent, {})
  if (span.isRecording()) {
    span.setAttributes({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': topic,
      'messaging.consumer.group.name': groupId,
      'messaging.message.id': headerString(message.headers, 'event-id') ?? '',
    })
  }
  let ended = false
  return {
    inTrace: (work) => context.with(trace.setSpan(parent, span), work),
    attemptFailed(err) {
      if (span.isRecording()) span.recordException(err as Error)
    },
    end(err) {
      if (ended) return
      ended = true
      if (err !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : 'failed' })
      span.end()
    },
  }
}
