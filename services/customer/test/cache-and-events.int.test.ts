import { Redis } from 'iovalkey'
import { credentials } from '@grpc/grpc-js'
import { HealthCheckResponse_ServingStatus as Serving, HealthService } from '@brewmesh/gen/grpc/health/v1/health.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Customer as CustomerMessage } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { cleanup, createCustomer, customerEnv, startCustomer, type Running } from './support.ts'

let svc: Running
let valkey: Redis
let recorder: Awaited<ReturnType<typeof topicRecorder>>
const env = customerEnv()
beforeAll(async () => {
  svc = await startCustomer(env)
  valkey = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']) })
  recorder = await topicRecorder(env['KAFKA_BROKERS']!, TOPICS.customerEvents + env['KAFKA_TOPIC_SUFFIX'])
})
afterAll(async () => {
  await recorder?.stop()
  valkey?.disconnect()
  await svc?.stop()
  await cleanup(env)
})

/** The cache's key: under the deployment's VALKEY_KEY_PREFIX. */
const cacheKey = (id: string) => `${env['VALKEY_KEY_PREFIX']}:customer:${id}`
const get = (s: Running, id: string) => s.client.getCustomer({ id }).then((r) => r.customer!)
const metric = async (s: Running, name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${s.app.metricsPort}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(name))
  return line ? Number(line.split(' ').at(-1)) : 0
}

describe('the customer cache', () => {
  it('fills <VALKEY_KEY_PREFIX>:customer:{id} on a read miss with a TTL of at most 300 s, and serves the next read from it', async () => {
    const c = await createCustomer(svc.client)
    expect(await valkey.exists(cacheKey(c.id))).toBe(0)
    const missesBefore = await metric(svc, 'customer_cache_misses_total')
    await get(svc, c.id)
    const ttl = await valkey.ttl(cacheKey(c.id))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(300)
    expect(CustomerMessage.decode((await valkey.getBuffer(cacheKey(c.id)))!).id).toBe(c.id)

    const hitsBefore = await metric(svc, 'customer_cache_hits_total')
    await get(svc, c.id)
    expect(await metric(svc, 'customer_cache_hits_total')).toBe(hitsBefore + 1)
    expect(await metric(svc, 'customer_cache_misses_total')).toBe(missesBefore + 1)
  })

  it('drops the cached copy on a change, so the next read sees it', async () => {
    const c = await createCustomer(svc.client)
    await get(svc, c.id)
    await svc.client.updateCustomer({ customer: { ...c, displayName: 'Changed' }, updateMask: ['display_name'], expectedVersion: 0 })
    expect(await valkey.exists(cacheKey(c.id))).toBe(0)
    expect((await get(svc, c.id)).displayName).toBe('Changed')
  })

  it('drops a stale copy again when the customer event comes back from Kafka (another replica raced the fill)', async () => {
    const c = await createCustomer(svc.client)
    const stale = Buffer.from(CustomerMessage.encode({ ...c, displayName: 'Stale' }).finish())
    // Hold the event back: pause the relay, change, then plant the stale copy a racing replica would write.
    await svc.app.relay.stop(0)
    await svc.client.updateCustomer({ customer: { ...c, displayName: 'Fresh' }, updateMask: ['display_name'], expectedVersion: 0 })
    await valkey.set(cacheKey(c.id), stale, 'EX', 300)
    expect((await get(svc, c.id)).displayName).toBe('Stale')
    svc.app.relay.start()
    await eventually(async () => expect((await get(svc, c.id)).displayName).toBe('Fresh'))
  })
})

describe('call metrics', () => {
  it('counts calls by method and status code and times them, under the service prefix', async () => {
    // Counted from where the file's earlier cases left them (they read customers too).
    const calls = async (code: string) => {
      const text = await (await fetch(`http://127.0.0.1:${svc.app.metricsPort}/metrics`)).text()
      const line = new RegExp(`^customer_service_requests_total\\{method="GetCustomer",code="${code}"\\} (\\d+)$`, 'm').exec(text)
      return { text, count: Number(line?.[1] ?? 0) }
    }
    const [ok, invalid] = [(await calls('OK')).count, (await calls('INVALID_ARGUMENT')).count]
    const c = await createCustomer(svc.client)
    await get(svc, c.id)
    await get(svc, c.id).catch(() => undefined)
    await svc.client.getCustomer({ id: 'nope' }).catch(() => undefined)
    expect((await calls('OK')).count).toBe(ok + 2)
    const after = await calls('INVALID_ARGUMENT')
    expect(after.count).toBe(invalid + 1)
    expect(after.text).toMatch(/^customer_service_duration_seconds_bucket\{method="CreateCustomer",code="OK",le="0.1"\} \d+/m)
  })
})

describe('with Valkey down', () => {
  it('keeps answering from PostgreSQL, stays SERVING, and counts the bypassed cache calls', async () => {
    const down = await startCustomer(
      { ...env, VALKEY_PORT: '1', INSTANCE_ID: `${env['INSTANCE_ID']}-novalkey` },
      { migrate: false, waitForFeed: false },
    )
    try {
      const c = await createCustomer(down.client)
      expect((await get(down, c.id)).id).toBe(c.id)
      expect(down.app.health.dependencies.get('valkey')).toBe(false)
      expect(await down.app.health.refresh()).toBe('SERVING')
      // grpc.health.v1 says what is degraded: the dependency has a status of its own.
      const health = createClient(HealthService, down.address, credentials.createInsecure())
      const status = (service: string) => health.check({ service }).then((r) => r.status)
      expect(await status('')).toBe(Serving.SERVING)
      expect(await status('dependency/valkey')).toBe(Serving.NOT_SERVING)
      expect(await status('dependency/postgres')).toBe(Serving.SERVING)
      health.close()
      expect(await metric(down, 'customer_cache_errors_total')).toBeGreaterThan(0)
    } finally {
      await down.stop()
    }
  })
})

describe('customer events', () => {
  it('publishes each change once, in order, keyed by customer id, with headers matching the payload', async () => {
    const c = await createCustomer(svc.client)
    await svc.client.updateCustomer({ customer: { ...c, email: `NEW.${c.email}` }, updateMask: ['email'], expectedVersion: 1 })
    await svc.client.deactivateCustomer({ id: c.id, reason: 'closed' })
    await svc.client.activateCustomer({ id: c.id })
    await svc.client.deleteCustomer({ id: c.id, expectedVersion: 0 })

    const mine = await eventually(() => {
      const list = recorder.messages.filter((m) => m.key?.toString() === c.id)
      expect(list).toHaveLength(5)
      return list
    })
    const events = mine.map((m) => CustomerEvent.decode(m.value!))
    expect(events.map((e) => e.payload?.$case)).toEqual(['created', 'updated', 'deactivated', 'activated', 'deleted'])
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5])
    expect(new Set(events.map((e) => e.metadata!.eventId)).size).toBe(5)
    const updated = events[1]!.payload
    expect(updated?.$case === 'updated' && updated.value.changes).toEqual([
      { field: 'email', oldValue: c.email, newValue: `NEW.${c.email}` },
    ])
    for (const [i, m] of mine.entries()) {
      const header = (name: string) => m.headers?.[name]?.toString()
      expect(header('event-id')).toBe(events[i]!.metadata!.eventId)
      expect(header('event-type')).toBe(events[i]!.metadata!.eventType)
      expect(header('event-source')).toBe('customer')
      expect(Date.parse(header('event-time')!)).toBe(events[i]!.metadata!.occurredAt!.getTime())
    }
    expect(events[0]!.metadata!.eventType).toBe('brewmesh.customer.v1.CustomerCreated')
  })
})
