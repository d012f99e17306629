import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { retryDelayOf } from '@brewmesh/sdk/errors.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { cart, cleanup, loyaltyEnv, openAccount, SEED, startLoyalty, type LoyaltyClient, type Running } from './support.ts'

let svc: Running
const env = loyaltyEnv({ RATE_LIMIT_WRITES: '3', RATE_LIMIT_WINDOW_SECONDS: '60' })
beforeAll(async () => {
  svc = await startLoyalty(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

describe('the per-caller write limit', () => {
  it('refuses the fourth write in a window with RESOURCE_EXHAUSTED and RetryInfo, per caller, leaving reads alone', async () => {
    const id = await openAccount(svc)
    const support = await svc.clientAs({ sub: `support-${randomUUID()}`, roles: ['support'] })
    const adjust = (client: LoyaltyClient) =>
      client.adjustPoints({ requestId: randomUUID(), customerId: id, points: '1500', reason: 'promo' })
    for (let i = 0; i < 3; i++) await adjust(support)
    const err = await failure(adjust(support))
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED)
    expect(retryDelayOf(err)).toBeGreaterThan(0)
    expect((await support.getAccount({ customerId: id })).account?.balance).toBe('4500')
    await adjust(await svc.clientAs({ sub: `support-${randomUUID()}`, roles: ['support'] }))
  })

  it('does not limit the Order Service', async () => {
    const id = await openAccount(svc)
    await svc.client.adjustPoints({ requestId: randomUUID(), customerId: id, points: '2000', reason: 'promo' })
    for (let i = 0; i < 5; i++) {
      await svc.order.redeemReward({
        requestId: randomUUID(),
        customerId: id,
        rewardId: SEED.dollarOff,
        orderId: randomUUID(),
        cart: cart([['espresso', 450, 1]]),
      })
    }
  })
})
