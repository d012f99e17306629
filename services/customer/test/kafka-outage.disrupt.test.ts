import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { controlKafka } from '@brewmesh/testkit/infra.ts'
import { topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { cleanup, createCustomer, customerEnv, startCustomer, type Running } from './support.ts'

// Stops the shared broker, so this file runs alone (the `disruptive` project runs after the rest).
const infra = inject('infra')
const env = customerEnv()
let svc: Running
beforeAll(async () => {
  svc = await startCustomer(env)
})
afterAll(async () => {
  if (infra.kafkaControl) await controlKafka(infra, 'start')
  await svc?.stop()
  await cleanup(env)
})

const pending = async () =>
  Number((await sqlQuery<{ n: string }>(env, 'select count(*) as n from outbox where published_at is null'))[0]!.n)

describe('a Kafka outage', () => {
  // Runs wherever the tests manage the broker (scripts/stack.sh, testcontainers, CI); with a broker
  // given from outside it needs TEST_KAFKA_STOP_CMD/TEST_KAFKA_START_CMD (the testkit says so).
  it.runIf(infra.kafkaControl !== undefined)(
    'keeps writes succeeding, holds their events in the outbox, and delivers every one once Kafka is back',
    async () => {
      await controlKafka(infra, 'stop')
      await eventually(() => expect(svc.app.health.dependencies.get('kafka')).toBe(false))

      const created = []
      for (let i = 0; i < 3; i++) created.push(await createCustomer(svc.client))
      expect(await svc.app.health.refresh()).toBe('SERVING')
      expect(await pending()).toBeGreaterThanOrEqual(3)

      await controlKafka(infra, 'start')
      await eventually(async () => expect(await pending()).toBe(0), { timeoutMs: 90_000, intervalMs: 500 })
      await eventually(() => expect(svc.app.health.dependencies.get('kafka')).toBe(true))

      const recorder = await topicRecorder(env['KAFKA_BROKERS']!, TOPICS.customerEvents + env['KAFKA_TOPIC_SUFFIX'])
      try {
        const ids = created.map((c) => c.id)
        // At least once: a send the broker took just as it went down may be repeated after it is
        // back (consumers apply each event id once); what must hold is that every event arrived.
        const delivered = await eventually(
          () => {
            const mine = recorder.messages.map((m) => CustomerEvent.decode(m.value!)).filter((e) => ids.includes(e.customerId))
            const distinct = [...new Map(mine.map((e) => [e.metadata!.eventId, e])).values()]
            expect(distinct).toHaveLength(3)
            return distinct
          },
          { timeoutMs: 60_000 },
        )
        expect(delivered.map((e) => e.customerId).sort()).toEqual([...ids].sort())
        expect(delivered.every((e) => e.payload?.$case === 'created')).toBe(true)
      } finally {
        await recorder.stop()
      }
    },
  )
})
