/**
 * A value that came from another hop of a trace (a consumed event), with the way to run what it
 * causes in that trace. Domain code that applies several events at once (one transaction for a
 * chunk) runs each event's own effects in its `inTrace`, so an outbox row or a job it makes
 * continues the right trace. The Kafka consumer gives every message one (kafka/consumer.ts).
 */
export interface Traced<T> {
  value: T
  inTrace<R>(work: () => R): R
}
