import { deadLetterTopic } from '@brewmesh/runtime/kafka'
import { TOPICS } from '@brewmesh/sdk/topics.ts'

/**
 * The topics of one deployment: each contract topic (@brewmesh/sdk/topics.ts) with the deployment's
 * KAFKA_TOPIC_SUFFIX, as runtime's topicName names them, and its dead-letter topic. Named exactly
 * rather than matched by pattern: with the empty suffix of a real deployment, a pattern such as
 * "starts with brewmesh." also matches every suffixed test deployment sharing the broker.
 */
export function deploymentTopics(suffix: string): string[] {
  return Object.values(TOPICS).flatMap((base) => [base + suffix, deadLetterTopic(base + suffix)])
}
