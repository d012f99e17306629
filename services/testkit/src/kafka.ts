import { Kafka, logLevel, type KafkaMessage } from 'kafkajs'
import { randomUUID } from 'node:crypto'

/** Reads a topic from the beginning in the background, so tests can look at what was published. */
export async function topicRecorder(brokers: string, topic: string) {
  const kafka = new Kafka({ clientId: 'testkit', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `testkit-${randomUUID()}` })
  const messages: KafkaMessage[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message)
    },
  })
  return {
    messages,
    stop: () => consumer.disconnect(),
  }
}

/** Produces raw messages (malformed ones, for dead-letter tests). */
export async function produceRaw(
  brokers: string,
  topic: string,
  messages: { key: string; value: Buffer; headers?: Record<string, string> }[],
) {
  const kafka = new Kafka({ clientId: 'testkit', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  try {
    await producer.send({ topic, messages })
  } finally {
    await producer.disconnect()
  }
}
