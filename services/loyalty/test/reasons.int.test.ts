import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AccountStatus } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import type { CheckoutSessionRequest } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { errorReasonOf } from '@brewmesh/sdk/errors.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { customerEvent, orderCompleted, publish, testOrder } from '@brewmesh/testkit/contract-events.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { failure, pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { brokers, cart, cleanup, grant, loyaltyEnv, openAccount, SEED, startLoyalty, type Running } from './support.ts'

// Every FAILED_PRECONDITION the service answers carries a google.rpc.ErrorInfo reason a program
// can act on (the README lists them); these are the ones not proven next to their RPC's own tests.
let svc: Running
const env = loyaltyEnv()
const suffix = env['KAFKA_TOPIC_SUFFIX']!
beforeAll(async () => {
  svc = await startLoyalty(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const redeem = (customerId: string, orderId: string, rewardId = SEED.freeDrink) =>
  svc.order.redeemReward({ requestId: randomUUID(), customerId, rewardId, orderId, cart: cart([['espresso', 450, 1]]) })

async function closedAccount(): Promise<string> {
  const customerId = await openAccount(svc)
  await grant(svc, customerId, 2000)
  await publish(brokers(), TOPICS.customerEvents + suffix, [customerEvent('deleted', { id: customerId })])
  await eventually(async () =>
    expect((await svc.client.getAccount({ customerId })).account?.status).toBe(AccountStatus.ACCOUNT_STATUS_CLOSED),
  )
  return customerId
}

describe('ErrorInfo reasons', () => {
  it('RedeemReward against an order that completed: ORDER_OVER, and nothing more is reserved', async () => {
    const customerId = await openAccount(svc)
    await grant(svc, customerId, 3000)
    const orderId = randomUUID()
    await redeem(customerId, orderId)
    await publish(brokers(), TOPICS.orderEvents + suffix, [orderCompleted(testOrder({ customerId, id: orderId }))])
    await eventually(async () => expect((await svc.client.getAccount({ customerId })).account?.reservedPoints).toBe('0'))
    const before = (await svc.client.getAccount({ customerId })).account?.balance

    const err = await failure(redeem(customerId, orderId, SEED.dollarOff))
    expect(err.code).toBe(status.FAILED_PRECONDITION)
    expect(errorReasonOf(err)).toBe('ORDER_OVER')
    expect((await svc.client.getAccount({ customerId })).account?.balance).toBe(before)
  })

  it("RedeemReward against another customer's order: ORDER_OF_ANOTHER_CUSTOMER", async () => {
    const [first, second] = [await openAccount(svc), await openAccount(svc)]
    await grant(svc, first, 1500)
    await grant(svc, second, 1500)
    const orderId = randomUUID()
    await redeem(first, orderId)
    const err = await failure(redeem(second, orderId))
    expect(err.code).toBe(status.FAILED_PRECONDITION)
    expect(errorReasonOf(err)).toBe('ORDER_OF_ANOTHER_CUSTOMER')
    expect((await svc.client.getAccount({ customerId: second })).account?.balance).toBe('1500')
  })

  it('a closed account: RedeemReward QUOTE_ISSUE_ACCOUNT_CLOSED, AdjustPoints LEDGER_REFUSAL_ACCOUNT_CLOSED, a checkout open QUOTE_ISSUE_ACCOUNT_CLOSED', async () => {
    const customerId = await closedAccount()
    const redeemed = await failure(redeem(customerId, randomUUID()))
    expect([redeemed.code, errorReasonOf(redeemed)]).toEqual([status.FAILED_PRECONDITION, 'QUOTE_ISSUE_ACCOUNT_CLOSED'])
    const adjusted = await failure(grant(svc, customerId, 5))
    expect([adjusted.code, errorReasonOf(adjusted)]).toEqual([status.FAILED_PRECONDITION, 'LEDGER_REFUSAL_ACCOUNT_CLOSED'])

    const requests = pushable<CheckoutSessionRequest>()
    const reader = new StreamReader(svc.order.checkoutSession(requests))
    requests.push({ sequence: '1', step: { $case: 'open', value: { customerId } } })
    const opened = await reader.end()
    expect([opened?.code, errorReasonOf(opened)]).toEqual([status.FAILED_PRECONDITION, 'QUOTE_ISSUE_ACCOUNT_CLOSED'])
  })
})
