import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { Kafka, Producer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPrivateKafka, type PrivateKafka } from '@brewmesh/testkit/private-kafka.ts'
import { reaper } from '@brewmesh/testkit/reaper.ts'
import { createKafka, ensureTopics } from '../src/kafka/client.ts'
import { startConsumer, type RunningConsumer } from '../src/kafka/consumer.ts'
import { createLogger } from '../src/logger.ts'

// A durable group of several members, on a broker of its own: how long the group goes without
// consuming when one member is slow or killed. Members are replicas; a replica killed with
// SIGKILL never leaves its group, and the one started in its place joins with a new member id.
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
let broker: PrivateKafka
let kafka: Kafka
let producer: Producer
const running: RunningConsumer[] = []
const children: ChildProcess[] = []

beforeAll(async () => {
  broker = await startPrivateKafka()
  kafka = createKafka({ brokers: [broker.brokers], clientId: 'test', topicSuffix: '' }, log)
  producer = kafka.producer()
  await producer.connect()
}, 180_000)
afterAll(async () => {
  for (const child of children) {
    child.kill('SIGKILL')
    if (child.pid) reaper.forgetPid(child.pid)
  }
  for (const c of running) await c.stop()
  await producer?.disconnect()
  await broker?.close()
}, 120_000)

async function newTopic(partitions: number): Promise<string> {
  const topic = `brewmesh.test.group.${randomUUID().slice(0, 8)}`
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopics(admin, [{ topic, numPartitions: partitions }])
  } finally {
    await admin.disconnect()
  }
  return topic
}

/** Another replica's member of the group, in a child process: resolves once it has joined. */
function memberProcess(groupId: string, topic: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['test/support/group-member.ts', broker.brokers, groupId, topic], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  if (child.pid) reaper.watchPid(child.pid)
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('joined') && resolve(child))
    child.on('exit', (code) => reject(new Error(`member exited ${code}`)))
  })
}

describe('a durable consumer group', () => {
  it('keeps a member that applies a chunk for longer than its session: the chunk is applied once, the group never rebalances', async () => {
    const topic = await newTopic(1)
    const calls: string[] = []
    let joins = 0
    const member = await startConsumer<string>({
      kafka,
      groupId: `test-${randomUUID()}`,
      topics: [topic],
      log,
      deadLetter: false,
      sessionTimeoutMs: 6000,
      handler: {
        decode: (r) => String(r.message.value),
        handleBatch: async (items) => {
          calls.push(...items.map((i) => i.value))
          // A chunk of a backlog on a busy database: half again the session.
          if (calls.length === 1) await sleep(9000)
        },
      },
    })
    running.push(member)
    member.consumer.on(member.consumer.events.GROUP_JOIN, () => void (joins += 1))
    await member.ready
    await producer.send({ topic, messages: [{ key: 'k', value: 'slow' }] })
    await sleep(15_000)
    await producer.send({ topic, messages: [{ key: 'k', value: 'next' }] })
    const until = Date.now() + 15_000
    while (!calls.includes('next') && Date.now() < until) await sleep(100)
    expect(calls).toEqual(['slow', 'next'])
    expect(joins).toBe(0) // the join before this listener was the only one
  }, 60_000)

  it('keeps consuming through a replica killed with SIGKILL and started again: the group waits out the dead member for seconds, not half a minute', async () => {
    const topic = await newTopic(6)
    const groupId = `test-${randomUUID()}`
    const applied: number[] = []
    const survivor = await startConsumer<string>({
      kafka,
      groupId,
      topics: [topic],
      log,
      deadLetter: false,
      handler: {
        decode: (r) => String(r.message.value),
        handleBatch: async (items) => void applied.push(...items.map(() => Date.now())),
      },
    })
    running.push(survivor)
    await survivor.ready
    const victim = await memberProcess(groupId, topic)
    // Both members hold partitions, and the survivor consumes its own.
    const sending = { on: true, sent: 0 }
    const load = (async () => {
      while (sending.on) {
        await producer.send({ topic, messages: [{ key: `k${sending.sent}`, value: String(sending.sent) }] })
        sending.sent += 1
        await sleep(100)
      }
    })()
    await sleep(5000)
    expect(applied.length).toBeGreaterThan(0)

    const killedAt = Date.now()
    victim.kill('SIGKILL')
    await memberProcess(groupId, topic)
    await sleep(Math.max(0, killedAt + 40_000 - Date.now()))
    sending.on = false
    await load

    // The longest the survivor went without applying anything, from the kill on: the group is
    // rebalancing (the new member joined) and waits for the dead member until its session expires.
    const after = [killedAt, ...applied.filter((t) => t >= killedAt), Date.now()]
    const gap = Math.max(...after.slice(1).map((t, i) => t - after[i]!))
    expect(gap).toBeLessThan(20_000) // 30 s before (the session then); a 10 s session, with room for a busy machine
  }, 120_000)
})
