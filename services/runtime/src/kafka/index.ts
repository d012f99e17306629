// The Kafka area of runtime: consumers' handlers and the envelope of the events producers write.
export {
  byTopic,
  deadLetterTopic,
  decodeOrPoison,
  mayBeOf,
  PoisonMessage,
  relevant,
  type BatchHandler,
  type Consumed,
  type ReceivedMessage,
} from './consumer.ts'
export { eventEnvelope, headerString, type EventHeaders } from './headers.ts'
export type { Traced } from '../traced.ts'
export { createKafka, ensureTopics, topicName } from './client.ts'
// For tools and tests that run a consumer outside a declared service (a declared service never needs it).
export { startConsumer, type RunningConsumer } from './consumer.ts'
