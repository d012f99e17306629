import { randomUUID } from 'node:crypto'
import { context, propagation } from '@opentelemetry/api'
import type { IHeaders } from 'kafkajs'
import type { EventMetadata } from '@brewmesh/gen/brewmesh/common/v1/event.ts'

/** The headers every brewmesh event carries (the payload repeats them in EventMetadata). */
export interface EventHeaders {
  'event-id': string
  'event-type': string
  'event-time': string
  'event-source': string
  traceparent?: string
}

/** The W3C traceparent of the active span, if any, to carry a trace across Kafka. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {}
  propagation.inject(context.active(), carrier)
  return carrier['traceparent']
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name]
  if (value === undefined) return undefined
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? undefined : first.toString()
}

/**
 * The envelope of a new event, in the current trace: its EventMetadata (the payload's copy) and
 * the Kafka headers consumers read before decoding. Every producer builds both the same way.
 */
export function eventEnvelope(source: string, eventType: string, now: Date, eventId: string = randomUUID()) {
  const traceparent = currentTraceparent()
  const metadata: EventMetadata = { eventId, eventType, occurredAt: now, source, traceparent: traceparent ?? '' }
  const headers: EventHeaders = {
    'event-id': eventId,
    'event-type': eventType,
    'event-time': now.toISOString(),
    'event-source': source,
    ...(traceparent ? { traceparent } : {}),
  }
  return { metadata, headers }
}
