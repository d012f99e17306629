import { randomUUID } from 'node:crypto'
import { Queue, type Job } from 'bullmq'
import { Redis } from 'iovalkey'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LedgerEntryKind } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import type { ExpiryRun } from '../src/domain/expiry.ts'
import type { Crossing } from '../src/domain/ports.ts'
import { POINTS_EXPIRY_QUEUE } from '../src/jobs/points-expiry.ts'
import { crossingJobId, REWARD_AVAILABLE_QUEUE } from '../src/jobs/reward-available.ts'
import { RESERVATION_HOLD_QUEUE } from '../src/jobs/reservation-hold.ts'
import { orderEvent, publish, testOrder } from '@brewmesh/testkit/contract-events.ts'
import { brokers, cart, cleanup, grant, loyaltyEnv, openAccount, SEED, startLoyalty, type Running } from './support.ts'

// The service's clock is controlled: days pass by setting `now`, never by sleeping.
let now = new Date('2031-01-10T12:00:00Z')
const DAY = 86_400_000
let svc: Running
let connection: Redis
const env = loyaltyEnv({ POINTS_EXPIRY_INACTIVITY_DAYS: '365' })
const queue = (name: string) => new Queue(name, { connection, prefix: `${env['VALKEY_KEY_PREFIX']}:loyalty` })
// The Order Service as the reservation hold job sees it: the orders it stored, or down.
const stored = new Set<string>()
let orderServiceUp = true
const orders = {
  exists: async (orderId: string) => {
    if (!orderServiceUp) throw new Error('14 UNAVAILABLE: No connection established')
    return stored.has(orderId)
  },
}
beforeAll(async () => {
  svc = await startLoyalty(env, { clock: () => now, orders })
  connection = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']), maxRetriesPerRequest: null })
})
afterAll(async () => {
  connection?.disconnect()
  await svc?.stop()
  await cleanup(env)
})

const getAccount = (customerId: string) => svc.client.getAccount({ customerId }).then((r) => r.account!)
const kindsOf = async (customerId: string) =>
  (await svc.client.listTransactions({ customerId, pageSize: 100, pageToken: '', kinds: [], orderId: '' })).entries.map((e) => e.kind)

/** Runs a job through the real queue and worker on Valkey and returns its result. */
async function runJob<T, R>(name: string, data: T, jobId?: string): Promise<R> {
  const q = queue(name)
  try {
    const job = (await q.add('run', data, jobId ? { jobId } : {})) as Job<T, R>
    return await eventually(async () => {
      const done = await q.getJob(job.id!)
      expect(await done?.isCompleted()).toBe(true)
      // The completed state and the result are read separately; wait until both are there.
      expect(done?.returnvalue).not.toBeNull()
      return done!.returnvalue as R
    })
  } finally {
    await q.close()
  }
}

const outboxEvents = async (customerId: string) =>
  (await sqlQuery<{ payload: Buffer }>(env, `select payload from outbox where key = '${customerId}' order by id`)).map((r) =>
    LoyaltyEvent.decode(r.payload),
  )

describe('the points expiry job', () => {
  it('is scheduled once in BullMQ, however many replicas start', async () => {
    // Waits until the second replica joined the consumer groups: one stopped mid-join leaves the
    // durable group rebalancing until Kafka gives up on it, and the tests after this one wait.
    const second = await startLoyalty({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-2` }, { migrate: false })
    const q = queue(POINTS_EXPIRY_QUEUE)
    try {
      const schedulers = await eventually(async () => {
        const list = await q.getJobSchedulers()
        expect(list).toHaveLength(1)
        return list
      })
      expect(schedulers[0]).toMatchObject({ key: 'points-expiry-daily', pattern: '23 2 * * *', tz: 'UTC' })
    } finally {
      await q.close()
      await second.stop()
    }
  })

  it('expires balances inactive for the period, keeps active ones, and a second run for the same period changes nothing', async () => {
    const idle = await openAccount(svc)
    const active = await openAccount(svc)
    await grant(svc, idle, 300)
    await grant(svc, active, 200)
    now = new Date(now.getTime() + 200 * DAY)
    await grant(svc, active, 10) // activity restarts its clock
    now = new Date(now.getTime() + 170 * DAY) // idle: 370 days, active: 170 days

    const first = await runJob<object, ExpiryRun>(POINTS_EXPIRY_QUEUE, {})
    expect(first.period).toBe(now.toISOString().slice(0, 10))
    expect(first.expiredAccounts).toBeGreaterThanOrEqual(1)
    expect(await getAccount(idle)).toMatchObject({ balance: '0', lifetimePoints: '300' })
    expect((await getAccount(active)).balance).toBe('210')
    expect(await kindsOf(idle)).toEqual([LedgerEntryKind.LEDGER_ENTRY_KIND_EXPIRE, LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST])
    const expired = (await outboxEvents(idle)).find((e) => e.payload?.$case === 'pointsExpired')
    expect(expired?.payload?.value).toMatchObject({
      points: '300',
      period: first.period,
      balance: '0',
      inactivityPeriod: { seconds: String(365 * 86_400) },
    })

    // Same period again, even with the balance restored in between by a (backdated) grant.
    await sqlQuery(env, `update accounts set balance = 50, last_activity_at = now() - interval '3 years' where customer_id = '${idle}'`)
    const again = await runJob<object, ExpiryRun>(POINTS_EXPIRY_QUEUE, {})
    expect(again.expiredAccounts).toBe(0)
    expect((await kindsOf(idle)).filter((k) => k === LedgerEntryKind.LEDGER_ENTRY_KIND_EXPIRE)).toHaveLength(1)
  })
})

describe('the reward-available job', () => {
  it('publishes RewardAvailable once each time the balance crosses a reward cost upward', async () => {
    const id = await openAccount(svc)
    const { entry } = await grant(svc, id, 450) // crosses the 400-point reward
    const announced = async () => (await outboxEvents(id)).filter((e) => e.payload?.$case === 'rewardAvailable')
    await eventually(async () => expect(await announced()).toHaveLength(1))
    expect((await announced())[0]?.payload?.value).toMatchObject({ rewardId: SEED.dollarOff, costPoints: '400', balance: '450' })

    // The same crossing again (a retried or duplicated job) sends nothing more.
    const crossing: Crossing = { customerId: id, rewardId: SEED.dollarOff, entryId: entry!.id }
    expect(await runJob<Crossing, boolean>(REWARD_AVAILABLE_QUEUE, crossing, `${crossingJobId(crossing)}-retry`)).toBe(false)
    expect(await announced()).toHaveLength(1)

    await grant(svc, id, 10) // still above: no new crossing
    await grant(svc, id, -100) // below 400
    await grant(svc, id, 100) // above again: announced again
    await eventually(async () => expect(await announced()).toHaveLength(2))
  })
})

describe('the reservation hold job', () => {
  it('releases reservations whose order never showed up after the hold period, and leaves placed orders alone', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 800)
    const redeem = (orderId: string) =>
      svc.order.redeemReward({
        requestId: randomUUID(),
        customerId: id,
        rewardId: SEED.dollarOff,
        orderId,
        cart: cart([['espresso', 450, 1]]),
      })
    const stranded = (await redeem(randomUUID())).redemption!
    const placedOrder = testOrder({ customerId: id })
    const kept = (await redeem(placedOrder.id!)).redemption!
    const placed = orderEvent(placedOrder, { $case: 'placed', value: { order: placedOrder } })
    await publish(brokers(), TOPICS.orderEvents + env['KAFKA_TOPIC_SUFFIX'], [placed])
    await eventually(async () =>
      expect(await sqlQuery(env, `select 1 from order_states where order_id = '${placedOrder.id}'`)).toHaveLength(1),
    )

    expect(await runJob<object, { released: number }>(RESERVATION_HOLD_QUEUE, {})).toEqual({ released: 0, deferred: 0 }) // within the hold period
    now = new Date(now.getTime() + 16 * 60_000)
    expect(await runJob<object, { released: number }>(RESERVATION_HOLD_QUEUE, {})).toEqual({ released: 1, deferred: 0 })
    const stateOf = async (redemptionId: string) =>
      (
        await sqlQuery<{ state: string; release_reason: string }>(
          env,
          `select state, release_reason from redemptions where id = '${redemptionId}'`,
        )
      )[0]
    expect(await stateOf(stranded.id)).toEqual({ state: 'released', release_reason: 'reservation hold period passed' })
    expect(await stateOf(kept.id)).toEqual({ state: 'reserved', release_reason: '' })
    expect(await getAccount(id)).toMatchObject({ balance: '400', reservedPoints: '400' })
    expect(await runJob<object, { released: number }>(RESERVATION_HOLD_QUEUE, {})).toEqual({ released: 0, deferred: 0 })
  })

  it('keeps a reservation whose order was stored but whose events have not arrived, and any while the Order Service cannot answer', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 800)
    const redeem = (orderId: string, requestId: string = randomUUID()) =>
      svc.order.redeemReward({ requestId, customerId: id, rewardId: SEED.dollarOff, orderId, cart: cart([['espresso', 450, 1]]) })
    // Placed, but its OrderPlaced is late (an outage, a consumer behind): only the Order Service knows.
    const late = randomUUID()
    stored.add(late)
    const lateOrder = (await redeem(late)).redemption!
    const stranded = (await redeem(randomUUID())).redemption!
    now = new Date(now.getTime() + 16 * 60_000)

    orderServiceUp = false
    try {
      expect(await runJob<object, object>(RESERVATION_HOLD_QUEUE, {})).toEqual({ released: 0, deferred: 2 })
    } finally {
      orderServiceUp = true
    }
    expect(await getAccount(id)).toMatchObject({ balance: '0', reservedPoints: '800' })

    expect(await runJob<object, object>(RESERVATION_HOLD_QUEUE, {})).toEqual({ released: 1, deferred: 0 })
    const states = await sqlQuery<{ id: string; state: string }>(
      env,
      `select id::text, state from redemptions where id in ('${lateOrder.id}', '${stranded.id}') order by state`,
    )
    expect(states).toEqual([
      { id: stranded.id, state: 'released' },
      { id: lateOrder.id, state: 'reserved' },
    ])
    expect(await getAccount(id)).toMatchObject({ balance: '400', reservedPoints: '400' })
  })

  it('restarts the hold when a retry of the placement gets the reservation back', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 400)
    const request = {
      requestId: randomUUID(),
      customerId: id,
      rewardId: SEED.dollarOff,
      orderId: randomUUID(),
      cart: cart([['espresso', 450, 1]]),
    }
    const first = (await svc.order.redeemReward(request)).redemption!
    now = new Date(now.getTime() + 14 * 60_000)
    // The retry is storing its order now: the hold counts from here, not from the first reservation.
    expect((await svc.order.redeemReward(request)).redemption!.id).toBe(first.id)
    now = new Date(now.getTime() + 2 * 60_000)
    expect(await runJob<object, object>(RESERVATION_HOLD_QUEUE, {})).toEqual({ released: 0, deferred: 0 })
    now = new Date(now.getTime() + 14 * 60_000)
    expect(await runJob<object, object>(RESERVATION_HOLD_QUEUE, {})).toEqual({ released: 1, deferred: 0 })
    expect(await getAccount(id)).toMatchObject({ balance: '400', reservedPoints: '0' })
  })
})
