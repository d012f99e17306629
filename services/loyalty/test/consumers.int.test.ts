import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { AccountStatus, LedgerEntryKind, RedemptionState } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import { CancelReasonCode } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import {
  customerEvent,
  orderCancelled,
  orderCompleted,
  orderEvent,
  paymentProcessed,
  publish,
  testOrder,
  type ContractMessage,
} from '@brewmesh/testkit/contract-events.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { errorReasonOf, fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { produceRaw, topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { brokers, cart, cleanup, grant, loyaltyEnv, openAccount, SEED, startLoyalty, type Running } from './support.ts'

let svc: Running
let recorder: Awaited<ReturnType<typeof topicRecorder>>
const env = loyaltyEnv()
const suffix = env['KAFKA_TOPIC_SUFFIX']!
const ORDERS = TOPICS.orderEvents + suffix
const CUSTOMERS = TOPICS.customerEvents + suffix
beforeAll(async () => {
  svc = await startLoyalty(env)
  recorder = await topicRecorder(brokers(), TOPICS.loyaltyEvents + suffix)
})
afterAll(async () => {
  await recorder?.stop()
  await svc?.stop()
  await cleanup(env)
})

const getAccount = (customerId: string) => svc.client.getAccount({ customerId }).then((r) => r.account!)
const ledger = (customerId: string) =>
  svc.client.listTransactions({ customerId, pageSize: 100, pageToken: '', kinds: [], orderId: '' }).then((r) => r.entries)
const kinds = async (customerId: string) => (await ledger(customerId)).map((e) => e.kind).reverse()
const eventsOf = (customerId: string) =>
  recorder.messages.filter((m) => m.key?.toString() === customerId).map((m) => LoyaltyEvent.decode(m.value!))
/** Waits until the consumer recorded the event id (its effect committed with it). */
const applied = (eventId: string) =>
  eventually(async () => expect((await sqlQuery(env, `select 1 from processed_events where event_id = '${eventId}'`)).length).toBe(1))

const usd = (amountMinor: number) => ({ amountMinor: String(amountMinor), currencyCode: 'USD' })

async function reserveFreeDrink(customerId: string, orderId: string) {
  await grant(svc, customerId, 1500)
  return svc.order.redeemReward({
    requestId: randomUUID(),
    customerId,
    rewardId: SEED.freeDrink,
    orderId,
    cart: cart([['espresso', 450, 1]]),
  })
}

describe('order completed', () => {
  it('earns points on the order total once, even when the same event is delivered twice', async () => {
    const customerId = await openAccount(svc)
    const order = testOrder({ customerId, total: usd(1290) })
    const completed = orderCompleted(order)
    await publish(brokers(), ORDERS, [completed, completed])
    await applied(completed.headers['event-id']!)
    await eventually(async () => expect(eventsOf(customerId).some((e) => e.payload?.$case === 'pointsEarned')).toBe(true))
    expect((await getAccount(customerId)).balance).toBe('129')
    expect(await kinds(customerId)).toEqual([LedgerEntryKind.LEDGER_ENTRY_KIND_EARN])
    const earned = eventsOf(customerId).find((e) => e.payload?.$case === 'pointsEarned')!
    expect(earned.payload?.value).toMatchObject({
      orderId: order.id,
      points: '129',
      multiplierPercent: 100,
      balance: '129',
      earnBasis: usd(1290),
    })
  })

  it('opens the account of a customer not seen yet, and confirms the order reservation', async () => {
    const customerId = await openAccount(svc)
    const orderId = randomUUID()
    const { redemption } = await reserveFreeDrink(customerId, orderId)
    const completed = orderCompleted(testOrder({ customerId, id: orderId, total: usd(0) }))
    await publish(brokers(), ORDERS, [completed])
    await applied(completed.headers['event-id']!)
    expect(await getAccount(customerId)).toMatchObject({ balance: '0', reservedPoints: '0' })
    expect(await kinds(customerId)).toEqual([
      LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST,
      LedgerEntryKind.LEDGER_ENTRY_KIND_RESERVE,
      LedgerEntryKind.LEDGER_ENTRY_KIND_CONFIRM,
    ])
    const rows = await sqlQuery<{ state: string }>(env, `select state from redemptions where id = '${redemption!.id}'`)
    expect(rows[0]?.state).toBe('confirmed')

    const stranger = randomUUID()
    const first = orderCompleted(testOrder({ customerId: stranger, total: usd(500) }))
    await publish(brokers(), ORDERS, [first])
    await applied(first.headers['event-id']!)
    expect(await getAccount(stranger)).toMatchObject({ status: AccountStatus.ACCOUNT_STATUS_OPEN, balance: '50' })
  })
})

describe('order cancelled and payment declined', () => {
  it('a cancellation processed before its completion still ends with nothing earned and the points given back', async () => {
    const customerId = await openAccount(svc)
    const orderId = randomUUID()
    await reserveFreeDrink(customerId, orderId)
    const order = testOrder({ customerId, id: orderId, total: usd(2000) })
    const cancelled = orderCancelled(order)
    await publish(brokers(), ORDERS, [cancelled])
    await applied(cancelled.headers['event-id']!)
    const completed = orderCompleted(order)
    await publish(brokers(), ORDERS, [completed])
    await applied(completed.headers['event-id']!)
    expect(await getAccount(customerId)).toMatchObject({ balance: '1500', reservedPoints: '0' })
    expect(await kinds(customerId)).toEqual([
      LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST,
      LedgerEntryKind.LEDGER_ENTRY_KIND_RESERVE,
      LedgerEntryKind.LEDGER_ENTRY_KIND_RELEASE,
    ])
  })

  it('a cancellation after the completion reverses the points earned', async () => {
    const customerId = await openAccount(svc)
    await grant(svc, customerId, 10)
    const order = testOrder({ customerId, total: usd(3000) })
    const completed = orderCompleted(order)
    const cancelled = orderCancelled(order, CancelReasonCode.CANCEL_REASON_CODE_STAFF_REQUEST)
    await publish(brokers(), ORDERS, [completed, cancelled])
    await applied(cancelled.headers['event-id']!)
    expect(await getAccount(customerId)).toMatchObject({ balance: '10', lifetimePoints: '10' })
    const entries = await ledger(customerId)
    expect(entries[0]).toMatchObject({ kind: LedgerEntryKind.LEDGER_ENTRY_KIND_REVERSE, points: '-300', reversesEntryId: entries[1]!.id })
  })

  it('a declined payment releases the reservation, and the cancellation that follows changes nothing more', async () => {
    const customerId = await openAccount(svc)
    const orderId = randomUUID()
    const { redemption } = await reserveFreeDrink(customerId, orderId)
    const order = testOrder({ customerId, id: orderId })
    const declined = paymentProcessed(order, false)
    const cancelled = orderCancelled(order, CancelReasonCode.CANCEL_REASON_CODE_PAYMENT_DECLINED)
    await publish(brokers(), ORDERS, [declined, cancelled])
    await applied(cancelled.headers['event-id']!)
    expect(await getAccount(customerId)).toMatchObject({ balance: '1500', reservedPoints: '0' })
    const rows = await sqlQuery<{ state: string; release_reason: string }>(
      env,
      `select state, release_reason from redemptions where id = '${redemption!.id}'`,
    )
    expect(rows[0]).toEqual({ state: 'released', release_reason: 'payment declined' })
    expect((await kinds(customerId)).filter((k) => k === LedgerEntryKind.LEDGER_ENTRY_KIND_RELEASE)).toHaveLength(1)
    await eventually(async () => {
      const released = eventsOf(customerId).find((e) => e.payload?.$case === 'redemptionReleased')
      expect(released?.payload?.value).toMatchObject({
        redemptionId: redemption!.id,
        points: '1500',
        reason: 'payment declined',
        balance: '1500',
      })
    })
  })
})

describe('malformed messages', () => {
  it('go to the dead-letter topic with the reason, and the consumer keeps going', async () => {
    const dlq = await topicRecorder(brokers(), `${ORDERS}.dlq`) // created by the service at start
    try {
      const customerId = await openAccount(svc)
      const good = orderCompleted(testOrder({ customerId, total: usd(700) }))
      await produceRaw(brokers(), ORDERS, [{ key: 'junk', value: Buffer.from([0xff, 0xff, 0xff, 0x0f]) }])
      const noCustomer = orderCompleted(testOrder({ customerId: 'not-a-uuid', total: usd(100) }))
      await publish(brokers(), ORDERS, [noCustomer, good])
      await applied(good.headers['event-id']!)
      expect((await getAccount(customerId)).balance).toBe('70')
      await eventually(() => expect(dlq.messages).toHaveLength(2))
      const reasons = dlq.messages.map((m) => m.headers?.['dlq-error']?.toString())
      expect(reasons).toEqual(
        expect.arrayContaining(['not a valid brewmesh.order.v1.OrderEvent', 'order event without a customer_id UUID']),
      )
      expect(dlq.messages[0]?.headers?.['dlq-consumer-group']?.toString()).toBe(`loyalty${suffix}`)
    } finally {
      await dlq.stop()
    }
  })
})

describe('a chunk of order events in one transaction', () => {
  // One key: the messages share a partition, so the consumer takes them as one chunk, in order.
  const together = (messages: ContractMessage[]) => messages.map((m) => ({ ...m, key: `chunk-${suffix}` }))

  it('earns each order once when completions repeat inside the chunk and arrive again in a later one', async () => {
    const [ada, bob] = [await openAccount(svc), await openAccount(svc)]
    const adaFirst = orderCompleted(testOrder({ customerId: ada, total: usd(1000) }))
    const adaSecond = orderCompleted(testOrder({ customerId: ada, total: usd(500) }))
    const bobs = orderCompleted(testOrder({ customerId: bob, total: usd(2000) }))
    await publish(brokers(), ORDERS, together([adaFirst, bobs, adaFirst, adaSecond, bobs]))
    await applied(adaSecond.headers['event-id']!)
    await publish(brokers(), ORDERS, together([bobs, adaFirst]))
    const marker = orderCompleted(testOrder({ customerId: bob, total: usd(100) }))
    await publish(brokers(), ORDERS, together([marker]))
    await applied(marker.headers['event-id']!) // the redelivered ones came before it, in order
    expect((await getAccount(ada)).balance).toBe('150')
    expect((await getAccount(bob)).balance).toBe('210')
    expect(await kinds(ada)).toEqual([LedgerEntryKind.LEDGER_ENTRY_KIND_EARN, LedgerEntryKind.LEDGER_ENTRY_KIND_EARN])
  })

  it('marks the placements of a chunk together: a new customer gets one account, a completion that came first still earns once', async () => {
    const stranger = randomUUID()
    const known = await openAccount(svc)
    const placedOf = (order: ReturnType<typeof testOrder>) => orderEvent(order, { $case: 'placed', value: { order } })
    const strangerOrder = testOrder({ customerId: stranger, total: usd(300) })
    const early = testOrder({ customerId: known, total: usd(1000) })
    const waiting = testOrder({ customerId: known, total: usd(200) })
    // The completion of `early` arrives before its placement; the stranger's placement is its first event.
    await publish(
      brokers(),
      ORDERS,
      together([placedOf(strangerOrder), orderCompleted(early), placedOf(early), placedOf(waiting), placedOf(strangerOrder)]),
    )
    // A placement of `early` arriving again later, in another chunk, changes nothing either.
    const last = placedOf(testOrder({ customerId: known }))
    await publish(brokers(), ORDERS, together([placedOf(early), last]))
    await applied(last.headers['event-id']!)
    const states = await sqlQuery<{ order_id: string; state: string }>(
      env,
      `select order_id, state from order_states where order_id in ('${strangerOrder.id}', '${early.id}', '${waiting.id}') order by state, order_id`,
    )
    expect(states).toEqual([
      { order_id: early.id, state: 'completed' },
      ...[strangerOrder.id, waiting.id].sort().map((id) => ({ order_id: id, state: 'placed' })),
    ])
    expect(await getAccount(stranger)).toMatchObject({ status: AccountStatus.ACCOUNT_STATUS_OPEN, balance: '0' })
    await eventually(() => expect(eventsOf(stranger).filter((e) => e.payload?.$case === 'accountOpened')).toHaveLength(1))
    expect((await getAccount(known)).balance).toBe('100')
    expect(await kinds(known)).toEqual([LedgerEntryKind.LEDGER_ENTRY_KIND_EARN])
  })

  it('dead-letters an unreadable message in the middle of the chunk alone; the others earn once', async () => {
    const dlq = await topicRecorder(brokers(), `${ORDERS}.dlq`)
    try {
      const customerId = await openAccount(svc)
      const before = orderCompleted(testOrder({ customerId, total: usd(300) }))
      const after = orderCompleted(testOrder({ customerId, total: usd(400) }))
      const junk = { key: '', value: Buffer.from([0xff, 0xff, 0xff, 0x0f]), headers: { 'event-id': `junk-${suffix}` } }
      await publish(brokers(), ORDERS, together([before, junk, after]))
      await applied(after.headers['event-id']!)
      expect((await getAccount(customerId)).balance).toBe('70')
      expect(await kinds(customerId)).toEqual([LedgerEntryKind.LEDGER_ENTRY_KIND_EARN, LedgerEntryKind.LEDGER_ENTRY_KIND_EARN])
      const dead = await eventually(() => {
        const found = dlq.messages.filter((m) => m.headers?.['event-id']?.toString() === `junk-${suffix}`)
        expect(found).toHaveLength(1)
        return found
      })
      expect(dead[0]?.headers?.['dlq-error']?.toString()).toBe('not a valid brewmesh.order.v1.OrderEvent')
      expect(dlq.messages.filter((m) => m.key?.toString() === `chunk-${suffix}`)).toHaveLength(1) // nothing else of the chunk
    } finally {
      await dlq.stop()
    }
  })
})

describe('customer events', () => {
  it('created opens the account once; deleted closes it, releases reservations and keeps the ledger', async () => {
    const customerId = randomUUID()
    const created = customerEvent('created', { id: customerId })
    await publish(brokers(), CUSTOMERS, [created, created])
    await applied(created.headers['event-id']!)
    const { redemption } = await reserveFreeDrink(customerId, randomUUID())
    const deleted = customerEvent('deleted', { id: customerId })
    await publish(brokers(), CUSTOMERS, [deleted])
    await applied(deleted.headers['event-id']!)
    const account = await getAccount(customerId)
    expect(account).toMatchObject({ status: AccountStatus.ACCOUNT_STATUS_CLOSED, balance: '1500', reservedPoints: '0' })
    expect(account.closedAt).toBeInstanceOf(Date)
    expect(await kinds(customerId)).toEqual([
      LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST,
      LedgerEntryKind.LEDGER_ENTRY_KIND_RESERVE,
      LedgerEntryKind.LEDGER_ENTRY_KIND_RELEASE,
    ])
    expect((await sqlQuery<{ state: string }>(env, `select state from redemptions where id = '${redemption!.id}'`))[0]?.state).toBe(
      'released',
    )
    const refused = await failure(grant(svc, customerId, 5))
    expect(refused.code).toBe(status.FAILED_PRECONDITION)
    expect(refused.details).toContain('LEDGER_REFUSAL_ACCOUNT_CLOSED')
    expect(errorReasonOf(refused)).toBe('LEDGER_REFUSAL_ACCOUNT_CLOSED')
    const late = orderCompleted(testOrder({ customerId, total: usd(900) }))
    await publish(brokers(), ORDERS, [late])
    await applied(late.headers['event-id']!)
    expect((await getAccount(customerId)).balance).toBe('1500')
    expect(eventsOf(customerId).map((e) => e.payload?.$case)).toContain('accountOpened')
    expect(RedemptionState.REDEMPTION_STATE_RELEASED).toBe(3)
  })
})

describe('ReleaseRedemptions (a placement that failed)', () => {
  const release = (customerId: string, orderId: string, only: { redemptionId: string; claim: number }[] = []) =>
    svc.order.releaseRedemptions({ customerId, orderId, reason: '', only })

  it('gives the reserved points back at once, and a retry of the same placement reserves afresh', async () => {
    const customerId = await openAccount(svc)
    const orderId = randomUUID()
    const requestId = randomUUID()
    await grant(svc, customerId, 1500)
    const redeem = () =>
      svc.order.redeemReward({ requestId, customerId, rewardId: SEED.freeDrink, orderId, cart: cart([['espresso', 450, 1]]) })
    const first = (await redeem()).redemption!

    const { released } = await release(customerId, orderId)
    expect(released.map((r) => [r.id, r.state, r.releaseReason])).toEqual([
      [first.id, RedemptionState.REDEMPTION_STATE_RELEASED, 'order not placed'],
    ])
    expect(await getAccount(customerId)).toMatchObject({ balance: '1500', reservedPoints: '0' })
    // Releasing again changes nothing.
    expect((await release(customerId, orderId)).released).toEqual([])

    const retried = (await redeem()).redemption!
    expect(retried.id).not.toBe(first.id)
    expect(retried.state).toBe(RedemptionState.REDEMPTION_STATE_RESERVED)
    expect(await getAccount(customerId)).toMatchObject({ balance: '0', reservedPoints: '1500' })
    expect(await kinds(customerId)).toEqual([
      LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST,
      LedgerEntryKind.LEDGER_ENTRY_KIND_RESERVE,
      LedgerEntryKind.LEDGER_ENTRY_KIND_RELEASE,
      LedgerEntryKind.LEDGER_ENTRY_KIND_RESERVE,
    ])
  })

  it('with the claims it saw, leaves what a retry of the placement claimed since, and what it does not name', async () => {
    const customerId = await openAccount(svc)
    const orderId = randomUUID()
    await grant(svc, customerId, 2000)
    const redeem = (rewardId: string, requestId: string) =>
      svc.order.redeemReward({ requestId, customerId, rewardId, orderId, cart: cart([['espresso', 450, 2]]) }).then((r) => r.redemption!)
    const [freeKey, offKey] = [randomUUID(), randomUUID()]
    // The failed attempt saw the free drink at claim 1; its answer for the 1.00 off never came.
    const free = await redeem(SEED.freeDrink, freeKey)
    expect(free.claim).toBe(1)
    const off = await redeem(SEED.dollarOff, offKey)
    // A retry of the same placement got the free drink back before the failed attempt's release arrived.
    const again = await redeem(SEED.freeDrink, freeKey)
    expect([again.id, again.claim]).toEqual([free.id, 2])

    expect((await release(customerId, orderId, [{ redemptionId: free.id, claim: 1 }])).released).toEqual([])
    expect(await getAccount(customerId)).toMatchObject({ balance: '100', reservedPoints: '1900' })

    // At the claim it has now, it goes; the 1.00 off, not named, stays.
    const { released } = await release(customerId, orderId, [{ redemptionId: free.id, claim: 2 }])
    expect(released.map((r) => r.id)).toEqual([free.id])
    expect(await getAccount(customerId)).toMatchObject({ balance: '1600', reservedPoints: '400' })
    expect((await redeem(SEED.dollarOff, offKey)).id).toBe(off.id)

    const bad = await failure(release(customerId, orderId, [{ redemptionId: 'nope', claim: 0 }]))
    expect(bad.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(bad).map((f) => f.field)).toEqual(['only[0].redemption_id', 'only[0].claim'])
  })

  it('refuses with reason ORDER_PLACED once the order is known to be placed, leaving its reservation alone', async () => {
    const customerId = await openAccount(svc)
    const orderId = randomUUID()
    await reserveFreeDrink(customerId, orderId)
    const placed = orderEvent(testOrder({ customerId, id: orderId }), {
      $case: 'placed',
      value: { order: testOrder({ customerId, id: orderId }) },
    })
    await publish(brokers(), ORDERS, [placed])
    await applied(placed.headers['event-id']!)

    const refused = await failure(release(customerId, orderId))
    expect(refused.code).toBe(status.FAILED_PRECONDITION)
    expect(errorReasonOf(refused)).toBe('ORDER_PLACED')
    expect(await getAccount(customerId)).toMatchObject({ reservedPoints: '1500' })
  })
})
