import { context, propagation } from '@opentelemetry/api'
import type { IHeaders } from 'kafkajs'

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
