import { Queue, QueueEvents } from 'bullmq'
import { Redis } from 'iovalkey'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WatchCustomerStatsResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { randomUUID } from 'node:crypto'
import { OrderKind } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import {
  orderCompleted,
  orderCancelled,
  orderEvent,
  publish,
  testOrder,
  TEST_LATTE_ID,
  type ContractMessage,
} from '@brewmesh/testkit/contract-events.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { StreamReader } from '@brewmesh/testkit/grpc.ts'
import { topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { pendingRollupsKey } from '../src/jobs/pending-rollups.ts'
import { STATS_QUEUE } from '../src/jobs/stats-rollup.ts'
import { cleanup, createCustomer, customerEnv, startCustomer, type Running } from './support.ts'

let svc: Running
let queue: Queue
let events: QueueEvents
const env = customerEnv({ STATS_ARCHIVE_AFTER_DAYS: '30', STATS_ROLLUP_DEBOUNCE_MS: '300' })
const brokers = env['KAFKA_BROKERS']!
const topic = TOPICS.orderEvents + env['KAFKA_TOPIC_SUFFIX']
beforeAll(async () => {
  svc = await startCustomer(env)
  const connection = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']), maxRetriesPerRequest: null })
  const prefix = `${env['VALKEY_KEY_PREFIX']}:customer`
  queue = new Queue(STATS_QUEUE, { connection, prefix })
  events = new QueueEvents(STATS_QUEUE, { connection: connection.duplicate(), prefix })
  await events.waitUntilReady()
})
afterAll(async () => {
  await events?.close()
  await queue?.close()
  await svc?.stop()
  await cleanup(env)
})

const usd = (cents: number) => ({ amountMinor: String(cents), currencyCode: 'USD' })
const DAY = 86_400_000
/** An order paid (approved) for `cents`, placed at `placedAt`. */
const paidOrder = (customerId: string, cents: number, placedAt = new Date()) =>
  testOrder({ customerId, placedAt, total: usd(cents), status: 2, version: 2, payment: { status: 2, amount: usd(cents) } })
const placed = (order: ReturnType<typeof testOrder>) =>
  orderEvent({ ...order, status: 1, version: 1, payment: { status: 1, amount: order.total } }, { $case: 'placed', value: { order } })
const LATTE = { id: TEST_LATTE_ID, name: 'Caffè Latte' }
const COCOA = { id: '4f1b2c3d-0000-4000-8000-0000000c0c0a', name: 'Hot Cocoa' }
/** A line of `quantity` drinks for a member, 450 each. */
const drink = (memberCustomerId: string, item: { id: string; name: string }, quantity: number) => ({
  id: randomUUID(),
  menuItemId: item.id,
  menuItemName: item.name,
  quantity,
  unitPrice: usd(450),
  lineTotal: usd(450 * quantity),
  memberCustomerId,
})
/** A group order paid (approved) by `payerId` for its lines. */
const groupOrder = (payerId: string, lines: ReturnType<typeof drink>[]) => {
  const total = usd(lines.reduce((sum, l) => sum + 450 * l.quantity, 0))
  return testOrder({
    customerId: payerId,
    kind: OrderKind.ORDER_KIND_GROUP,
    lines,
    total,
    status: 2,
    version: 2,
    payment: { status: 2, amount: total },
  })
}
// One key: the messages share a partition, so the consumer takes them as one chunk, in order.
const suffix = env['KAFKA_TOPIC_SUFFIX']!
const together = (messages: ContractMessage[]) => messages.map((m) => ({ ...m, key: `chunk-${suffix}` }))
const statsOf = (customerId: string) => svc.client.getCustomerStats({ customerId }).then((r) => r.stats!)
const runJob = async (name: string): Promise<unknown> => (await queue.add(name, {})).waitUntilFinished(events, 30_000) as Promise<unknown>

describe('order events into statistics', () => {
  it('counts placed, completed and cancelled orders, approved spend, top drinks and peak hours', async () => {
    const c = await createCustomer(svc.client)
    const monday9 = new Date('2026-11-23T09:15:00Z')
    const a = paidOrder(c.id, 520, monday9)
    const b = paidOrder(c.id, 1000, new Date('2026-11-23T09:40:00Z'))
    const cancelled = testOrder({ customerId: c.id, placedAt: new Date('2026-11-24T15:00:00Z') })
    await publish(brokers, topic, [
      placed(a),
      orderCompleted(a),
      placed(b),
      orderCompleted(b),
      placed(cancelled),
      orderCancelled(cancelled),
    ])
    const stats = await eventually(async () => {
      const s = await statsOf(c.id)
      expect(s.ordersPlaced).toBe('3')
      return s
    })
    expect(stats).toMatchObject({
      ordersCompleted: '2',
      ordersCancelled: '1',
      totalSpent: { amountMinor: '1520', currencyCode: 'USD' },
      averageOrderValue: { amountMinor: '760' },
      topDrinks: [{ name: 'Caffè Latte', count: '2' }],
      firstOrderAt: monday9,
      lastOrderAt: new Date('2026-11-24T15:00:00Z'),
    })
    expect(stats.peakTimes[0]).toEqual({ weekday: 1, hour: 9, orders: '2' })
  })

  it('applies each event once, and an older version delivered late does not undo a newer one', async () => {
    const c = await createCustomer(svc.client)
    const order = paidOrder(c.id, 450)
    const completed = orderCompleted(order)
    await publish(brokers, topic, [completed, completed, placed(order), completed])
    await eventually(async () => expect((await statsOf(c.id)).ordersCompleted).toBe('1'))
    const s = await statsOf(c.id)
    expect([s.ordersPlaced, s.totalSpent?.amountMinor]).toEqual(['1', '450'])
    const facts = await sqlQuery<{ n: number }>(env, `select count(*)::int as n from processed_events where consumer = 'customer-stats'`)
    expect(facts[0]!.n).toBeGreaterThanOrEqual(2) // the duplicates were recognised, not applied
  })

  it('a burst of events for one customer makes one rollup, not one per event, and leaves nothing owed behind', async () => {
    const c = await createCustomer(svc.client)
    // Every rollup publishes its result for WatchCustomerStats: count those of this customer.
    const subscriber = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']) })
    const reader = subscriber.duplicate()
    let rollups = 0
    subscriber.on('message', (_channel: string, message: string) => {
      if ((JSON.parse(message) as { customerId: string }).customerId === c.id.toLowerCase()) rollups++
    })
    await subscriber.subscribe(`${env['VALKEY_KEY_PREFIX']}:customer-stats`)
    try {
      const orders = Array.from({ length: 15 }, () => paidOrder(c.id, 300))
      await publish(
        brokers,
        topic,
        orders.flatMap((o) => [placed(o), orderCompleted(o)]),
      )
      await eventually(async () => expect((await statsOf(c.id)).ordersCompleted).toBe('15'))
      await eventually(() => expect(rollups).toBeGreaterThanOrEqual(1))
      expect(rollups).toBeLessThanOrEqual(3) // 30 events
      // Nothing of it stays behind in Valkey: no finished sweep, no mark.
      await eventually(async () => {
        expect(await queue.getJobs(['completed'], 0, 1000)).toEqual([])
        expect(await reader.hexists(pendingRollupsKey(env['VALKEY_KEY_PREFIX']!), c.id.toLowerCase())).toBe(0)
      })
    } finally {
      subscriber.disconnect()
      reader.disconnect()
    }
  })

  it('a rollup job of one customer, as replicas before the sweep queued them, is still run', async () => {
    const c = await createCustomer(svc.client)
    const order = paidOrder(c.id, 640)
    await publish(brokers, topic, [placed(order), orderCompleted(order)])
    await eventually(async () => expect((await statsOf(c.id)).ordersCompleted).toBe('1'))
    await sqlQuery(env, `delete from customer_stats where customer_id = '${c.id}'`)
    const job = await queue.add('rollup', { customerId: c.id.toLowerCase() })
    expect(await job.waitUntilFinished(events, 30_000)).toMatchObject({ customerId: c.id.toLowerCase() })
    expect((await statsOf(c.id)).totalSpent).toEqual(usd(640))
  })

  it('the full rollup repairs a corrupted statistics row', async () => {
    const c = await createCustomer(svc.client)
    const order = paidOrder(c.id, 999)
    await publish(brokers, topic, [placed(order), orderCompleted(order)])
    await eventually(async () => expect((await statsOf(c.id)).ordersCompleted).toBe('1'))
    await sqlQuery(env, `update customer_stats set stats = jsonb_set(stats, '{ordersCompleted}', '42') where customer_id = '${c.id}'`)
    expect((await statsOf(c.id)).ordersCompleted).toBe('42')
    await runJob('full-rollup')
    expect((await statsOf(c.id)).ordersCompleted).toBe('1')
  })

  it('archiving old facts into monthly aggregates leaves the statistics unchanged', async () => {
    const c = await createCustomer(svc.client)
    const old = [paidOrder(c.id, 400, new Date(Date.now() - 90 * DAY)), paidOrder(c.id, 600, new Date(Date.now() - 60 * DAY))]
    const recent = paidOrder(c.id, 500)
    await publish(
      brokers,
      topic,
      [...old, recent].flatMap((o) => [placed(o), orderCompleted(o)]),
    )
    const before = await eventually(async () => {
      const s = await statsOf(c.id)
      expect(s.ordersCompleted).toBe('3')
      return s
    })
    await runJob('archive')
    const facts = await sqlQuery<{ n: number }>(env, `select count(*)::int as n from order_facts where customer_id = '${c.id}'`)
    expect(facts[0]!.n).toBe(1)
    const months = await sqlQuery<{ n: number }>(env, `select count(*)::int as n from stats_archive where customer_id = '${c.id}'`)
    expect(months[0]!.n).toBe(2)
    await runJob('full-rollup')
    const after = await statsOf(c.id)
    expect({ ...after, computedAt: undefined }).toEqual({ ...before, computedAt: undefined })
  })

  it('dead-letters an unreadable order event and keeps going', async () => {
    const c = await createCustomer(svc.client)
    await publish(brokers, topic, [{ key: 'junk', value: Buffer.from('junk'), headers: {} }])
    const order = paidOrder(c.id, 100)
    await publish(brokers, topic, [placed(order)])
    await eventually(async () => expect((await statsOf(c.id)).ordersPlaced).toBe('1'))
    const dlq = await eventually(() => topicRecorder(brokers, `${topic}.dlq`))
    await eventually(() => expect(dlq.messages.some((m) => m.key?.toString() === 'junk')).toBe(true))
    await dlq.stop()
  })

  it("counts a group order's drinks for the member each was for, the order for everyone in it, the money for the payer", async () => {
    const [payer, kid, partner] = [await createCustomer(svc.client), await createCustomer(svc.client), await createCustomer(svc.client)]
    const both = groupOrder(payer.id, [
      drink(payer.id, LATTE, 1),
      drink(kid.id, COCOA, 2),
      drink(partner.id, LATTE, 1),
      drink(kid.id, COCOA, 1),
    ])
    const kidOnly = groupOrder(payer.id, [drink(kid.id, LATTE, 1)])
    await publish(
      brokers,
      topic,
      [both, kidOnly].flatMap((o) => [placed(o), orderCompleted(o)]),
    )
    const kidStats = await eventually(async () => {
      const s = await statsOf(kid.id)
      expect(s.ordersCompleted).toBe('2')
      return s
    })
    expect(kidStats).toMatchObject({
      ordersPlaced: '2',
      totalSpent: { amountMinor: '0' },
      averageOrderValue: { amountMinor: '0' },
      topDrinks: [
        { menuItemId: COCOA.id, count: '3' },
        { menuItemId: LATTE.id, count: '1' },
      ],
    })
    const payerStats = await eventually(async () => {
      const s = await statsOf(payer.id)
      expect(s.ordersCompleted).toBe('2')
      return s
    })
    expect(payerStats).toMatchObject({
      ordersPlaced: '2',
      totalSpent: { amountMinor: '2700' },
      averageOrderValue: { amountMinor: '1350' },
      topDrinks: [{ menuItemId: LATTE.id, count: '1' }],
    })
    const partnerStats = await eventually(async () => {
      const s = await statsOf(partner.id)
      expect(s.ordersCompleted).toBe('1')
      return s
    })
    expect(partnerStats).toMatchObject({
      ordersPlaced: '1',
      totalSpent: { amountMinor: '0' },
      topDrinks: [{ menuItemId: LATTE.id, count: '1' }],
    })
  })

  // Two events of one order in one chunk upsert one fact row: the chunk's statement must keep only the newest.
  it('counts every event of a chunk once, when it repeats inside the chunk and arrives again in a later one', async () => {
    const [ada, bob] = [await createCustomer(svc.client), await createCustomer(svc.client)]
    const adaOrder = paidOrder(ada.id, 300)
    const bobOrder = paidOrder(bob.id, 700)
    const adaDone = orderCompleted(adaOrder)
    const bobDone = orderCompleted(bobOrder)
    await publish(brokers, topic, together([placed(adaOrder), adaDone, placed(bobOrder), bobDone, adaDone, bobDone]))
    await eventually(async () =>
      expect([(await statsOf(ada.id)).ordersCompleted, (await statsOf(bob.id)).ordersCompleted]).toEqual(['1', '1']),
    )
    const marker = paidOrder(ada.id, 100)
    await publish(brokers, topic, together([bobDone, adaDone, placed(marker)]))
    await eventually(async () => expect((await statsOf(ada.id)).ordersPlaced).toBe('2')) // the repeats came before it, in order
    expect(await statsOf(ada.id)).toMatchObject({ ordersCompleted: '1', totalSpent: { amountMinor: '400' } }) // 300 + the marker's 100
    expect(await statsOf(bob.id)).toMatchObject({ ordersPlaced: '1', ordersCompleted: '1', totalSpent: { amountMinor: '700' } })
  })

  it('an event the database refuses, in the middle of a chunk, rolls the chunk back and reaches the dead-letter topic alone; the others count once', async () => {
    const dlq = await topicRecorder(brokers, `${topic}.dlq`)
    try {
      const c = await createCustomer(svc.client)
      const [first, last] = [paidOrder(c.id, 100), paidOrder(c.id, 200)]
      // PostgreSQL stores no NUL character in jsonb: this fact can never be written.
      const refused = testOrder({ customerId: c.id, lines: [drink(c.id, { id: LATTE.id, name: 'Latte\u0000' }, 1)] })
      const poison = placed(refused)
      await publish(brokers, topic, together([placed(first), orderCompleted(first), poison, placed(last), orderCompleted(last)]))
      const dead = await eventually(() => {
        const found = dlq.messages.filter((m) => m.key?.toString() === `chunk-${suffix}`)
        expect(found).toHaveLength(1)
        return found[0]!
      })
      expect(dead.headers?.['event-id']?.toString()).toBe(poison.headers['event-id'])
      expect(dead.headers?.['dlq-error']?.toString()).toMatch(/unicode/i)
      const stats = await eventually(async () => {
        const s = await statsOf(c.id)
        expect(s.ordersCompleted).toBe('2')
        return s
      })
      expect(stats).toMatchObject({ ordersPlaced: '2', totalSpent: { amountMinor: '300' } })
      const recorded = await sqlQuery<{ n: number }>(env, `select count(*)::int as n from order_facts where customer_id = '${c.id}'`)
      expect(recorded[0]!.n).toBe(2)
    } finally {
      await dlq.stop()
    }
  })

  // Last in this file: a second replica joins the stats consumer group, and the rebalance when
  // it leaves must not delay the other cases.
  it('WatchCustomerStats on another replica receives the rollup after an order completes', async () => {
    const c = await createCustomer(svc.client)
    const replica = await startCustomer({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-2` }, { migrate: false })
    try {
      const watch = new StreamReader<WatchCustomerStatsResponse>(replica.client.watchCustomerStats({ customerId: c.id }))
      expect((await watch.next()).stats).toMatchObject({ customerId: c.id, ordersPlaced: '0' })
      const order = paidOrder(c.id, 450)
      await publish(brokers, topic, [placed(order), orderCompleted(order)])
      const update = await eventually(async () => {
        const m = await watch.next()
        expect(m.stats?.ordersCompleted).toBe('1')
        return m
      })
      expect(update.stats?.totalSpent?.amountMinor).toBe('450')
    } finally {
      await replica.stop()
    }
  })
})

describe('queue and pool metrics', () => {
  it('exports jobs by state, job durations and the connection pool on /metrics', async () => {
    const text = await eventually(async () => {
      const body = await (await fetch(`http://127.0.0.1:${svc.app.metricsPort}/metrics`)).text()
      expect(body).toContain('customer_job_duration_seconds')
      return body
    })
    expect(text).toMatch(/customer_queue_jobs\{queue="customer-stats",state="completed"\} [1-9]/)
    expect(text).toMatch(/customer_queue_jobs\{queue="customer-outbox-purge",state="failed"\} 0/)
    expect(text).toMatch(/customer_db_pool_connections\{state="total"\} [1-9]/)
  })
})
