import { createKafka } from '@brewmesh/runtime/kafka'
import { createLogger } from '@brewmesh/runtime/logger'
import { closeValkey, createValkey } from '@brewmesh/runtime/valkey'
import type { InfraEnv } from '@brewmesh/testkit/infra.ts'

// What isolated services leave on the shared servers besides their schemas: topics named with
// their suffix (dead-letter topics included) and keys under their prefixes (queues, caches).

const silent = () => createLogger({ level: 'silent', service: 'bench', instanceId: 'bench' })

/** Deletes every topic whose name contains `suffix` (unique per run, e.g. `.p1a2b3c4d5`). */
export async function deleteTopicsWith(infra: InfraEnv, suffix: string): Promise<number> {
  const kafka = createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: 'brewmesh-bench', topicSuffix: suffix }, silent())
  const admin = kafka.admin()
  await admin.connect()
  try {
    const topics = (await admin.listTopics()).filter((t) => t.includes(suffix))
    if (topics.length > 0) await admin.deleteTopics({ topics })
    return topics.length
  } finally {
    await admin.disconnect()
  }
}

/** Deletes every key that starts with `prefix` (an isolated service's VALKEY_KEY_PREFIX). */
export async function deleteKeysWith(infra: InfraEnv, prefix: string): Promise<number> {
  const valkey = createValkey({ host: infra.VALKEY_HOST, port: Number(infra.VALKEY_PORT), keyPrefix: prefix }, silent(), 'jobs')
  let deleted = 0
  try {
    for await (const keys of valkey.scanStream({ match: `${prefix}*`, count: 1000 })) {
      const batch = keys as string[]
      if (batch.length > 0) deleted += await valkey.unlink(...batch)
    }
    return deleted
  } finally {
    await closeValkey(valkey)
  }
}
