// A member of a durable consumer group in a process of its own, for tests that kill it (SIGKILL):
// `node test/support/group-member.ts <brokers> <groupId> <topic>`. It prints "joined" once its
// group is joined, then applies what it is given (nothing to apply: the test watches the others).
import { createKafka } from '../../src/kafka/client.ts'
import { startConsumer } from '../../src/kafka/consumer.ts'
import { createLogger } from '../../src/logger.ts'

const [brokers, groupId, topic] = process.argv.slice(2)
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'group-member' })
const kafka = createKafka({ brokers: [brokers!], clientId: 'group-member', topicSuffix: '' }, log)
const running = await startConsumer<string>({
  kafka,
  groupId: groupId!,
  topics: [topic!],
  log,
  deadLetter: false,
  handler: { decode: (r) => String(r.message.value), handleBatch: async () => undefined },
})
await running.ready
process.stdout.write('joined\n')
