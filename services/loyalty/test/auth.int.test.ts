import { randomUUID } from 'node:crypto'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LoyaltyServiceService,
  type AdjustPointsBatchRequest,
  type CheckoutSessionRequest,
} from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { accessCases } from '@brewmesh/testkit/access-matrix.ts'
import { customer } from '@brewmesh/testkit/principals.ts'
import { bearer } from '@brewmesh/testkit/tokens.ts'
import { ACCESS } from '../src/grpc/access.ts'
import { cart, cleanup, loyaltyEnv, openAccount, SEED, startLoyalty, type LoyaltyClient, type Running } from './support.ts'

let svc: Running
const env = loyaltyEnv()
let member = '' // the customer the calls are about (an account with no points)
const household = randomUUID()

beforeAll(async () => {
  svc = await startLoyalty(env)
  member = await openAccount(svc)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const clients: LoyaltyClient[] = []
const withToken = (token?: string) => {
  const c = createClient(LoyaltyServiceService, svc.address, credentials.createInsecure(), token ? { interceptors: [bearer(token)] } : {})
  clients.push(c)
  return c
}
afterAll(() => clients.forEach((c) => c.close()))

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  )
/** A stream's outcome: its first message (then the call is cancelled), or its status. */
const firstOf = async (messages: AsyncIterable<unknown>) => {
  for await (const _ of messages) return
}

/** Every RPC, about `member`. */
const RPCS: Record<keyof typeof ACCESS, (c: LoyaltyClient) => Promise<unknown>> = {
  GetAccount: (c) => c.getAccount({ customerId: member }),
  ListTransactions: (c) => c.listTransactions({ customerId: member, pageSize: 0, pageToken: '', kinds: [], orderId: '' }),
  ListRewards: (c) => c.listRewards({ pageSize: 0, pageToken: '', customerId: member, onlyAffordable: false, includeInactive: false }),
  QuoteRewards: (c) => c.quoteRewards({ customerId: member, cart: cart([['espresso', 450, 1]], [SEED.dollarOff]) }),
  // The member has no points: authorized, then FAILED_PRECONDITION, so nothing is reserved.
  RedeemReward: (c) =>
    c.redeemReward({
      requestId: randomUUID(),
      customerId: member,
      rewardId: SEED.dollarOff,
      orderId: randomUUID(),
      cart: cart([['espresso', 450, 1]]),
    }),
  ReleaseRedemptions: (c) => c.releaseRedemptions({ customerId: member, orderId: randomUUID(), reason: '', only: [] }),
  AdjustPoints: (c) => c.adjustPoints({ requestId: randomUUID(), customerId: member, points: '1', reason: 'auth' }),
  WatchAccount: (c) => firstOf(c.watchAccount({ customerId: member })),
  AdjustPointsBatch: (c) =>
    c.adjustPointsBatch([
      { message: { $case: 'header', value: { batchId: randomUUID(), defaultReason: 'auth' } } },
      { message: { $case: 'line', value: { lineNumber: '1', lineId: randomUUID(), customerId: member, points: '1', reason: '' } } },
    ] satisfies AdjustPointsBatchRequest[]),
  CheckoutSession: (c) =>
    firstOf(
      c.checkoutSession([{ sequence: '1', step: { $case: 'open', value: { customerId: member } } }] satisfies CheckoutSessionRequest[]),
    ),
}

describe('authentication and authorization, for every LoyaltyService RPC', () => {
  for (const [rpc, call] of Object.entries(RPCS) as [keyof typeof ACCESS, (c: LoyaltyClient) => Promise<unknown>][]) {
    it(`${rpc}: no token and an expired token are UNAUTHENTICATED; every caller its access rule names passes, every other is PERMISSION_DENIED`, async () => {
      expect(await codeOf(call(withToken()))).toBe(status.UNAUTHENTICATED)
      expect(await codeOf(call(withToken(await svc.issuer.mint(customer(member), { expiresIn: -120 }))))).toBe(status.UNAUTHENTICATED)
      const passed = rpc === 'RedeemReward' ? status.FAILED_PRECONDITION : status.OK
      for (const c of accessCases(ACCESS[rpc], member, household)) {
        const code = await codeOf(call(withToken(await svc.issuer.mint(c.claims))))
        expect({ caller: c.who, code }).toEqual({ caller: c.who, code: c.allowed ? passed : status.PERMISSION_DENIED })
      }
    })
  }

  it('ListRewards without customer_id: the catalog is open to every signed-in customer, and to the staff and services of the rule', async () => {
    const catalog = (c: LoyaltyClient) =>
      c.listRewards({ pageSize: 0, pageToken: '', customerId: '', onlyAffordable: false, includeInactive: false })
    for (const c of accessCases(ACCESS.ListRewards, member, household)) {
      const code = await codeOf(catalog(withToken(await svc.issuer.mint(c.claims))))
      const allowed = c.claims.roles.includes('customer') || c.allowed
      expect({ caller: c.who, code }).toEqual({ caller: c.who, code: allowed ? status.OK : status.PERMISSION_DENIED })
    }
  })
})
