import { randomUUID } from 'node:crypto'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { OrderStatus, type Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { grpcurlAt } from '@brewmesh/testkit/grpcurl.ts'
import { bearer, testIssuer, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { createCustomer, latte, MENU_IDS, place, placeGroup, placeRequest, startMesh, type Mesh, type OrderClient } from './support.ts'

let mesh: Mesh
let member: Customer
let sibling: Customer
let order: Order
const household = randomUUID()
beforeAll(async () => {
  mesh = await startMesh()
  member = await createCustomer(mesh.customer.client, { householdId: household })
  sibling = await createCustomer(mesh.customer.client, { householdId: household })
  order = await place(mesh.order.client, placeRequest(member.id))
  await eventually(async () =>
    expect((await mesh.order.client.getOrder({ id: order.id })).order?.status).toBe(OrderStatus.ORDER_STATUS_PAID),
  )
})
afterAll(async () => {
  clients.forEach((c) => c.close())
  await mesh?.stop()
})

const clients: OrderClient[] = []
const withToken = async (claims?: TokenClaims, expired = false) => {
  const issuer = await testIssuer()
  const token = claims && (await issuer.mint(claims, expired ? { expiresIn: -120 } : {}))
  const client = createClient(
    OrderServiceService,
    mesh.order.address,
    credentials.createInsecure(),
    token ? { interceptors: [bearer(token)] } : {},
  )
  clients.push(client)
  return client
}
const customer = (c: Customer): TokenClaims => ({ sub: c.id, roles: ['customer'], household_id: household })
const stranger: TokenClaims = { sub: randomUUID(), roles: ['customer'], household_id: randomUUID() }
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  )
/** A stream's outcome: its first message (then the call is cancelled), or its status. */
const firstMessage = async (messages: AsyncIterable<unknown>) => {
  for await (const _ of messages) return
}

type Client = OrderClient
/** Every RPC that needs a particular right, about `member`'s order; the menu only needs a valid token. */
const RPCS: Record<
  string,
  { call: (c: Client) => Promise<unknown>; right: () => TokenClaims; wrongRole: TokenClaims; otherCustomer: boolean; ok?: number }
> = {
  PlaceOrder: {
    call: (c) => place(c, placeRequest(member.id)),
    right: () => customer(member),
    wrongRole: { sub: 'loyalty', roles: ['service'] },
    otherCustomer: true,
  },
  PlaceGroupOrder: {
    call: (c) => placeGroup(c, { requestId: randomUUID(), customerId: member.id }, [latte(1, sibling.id)]),
    right: () => customer(member),
    wrongRole: { sub: 'favorites', roles: ['service'] },
    otherCustomer: true,
  },
  GetOrder: {
    call: (c) => c.getOrder({ id: order.id }),
    right: () => customer(sibling),
    wrongRole: { sub: 'loyalty', roles: ['service'] },
    otherCustomer: true,
  },
  ListOrders: {
    call: (c) => c.listOrders({ pageSize: 5, pageToken: '', customerId: '', householdId: household, statuses: [] }),
    right: () => customer(sibling),
    wrongRole: { sub: 'loyalty', roles: ['service'] },
    otherCustomer: true,
  },
  CancelOrder: {
    // The customer cancels their own paid order (the cases after this one still read it).
    call: (c) => c.cancelOrder({ requestId: randomUUID(), id: order.id, reason: 'auth' }),
    right: () => customer(member),
    wrongRole: { sub: 'loyalty', roles: ['service'] },
    otherCustomer: true,
    ok: status.OK,
  },
  AdvanceOrder: {
    call: (c) => c.advanceOrder({ id: randomUUID(), expectedStatus: 0 }),
    right: () => ({ sub: 'b1', roles: ['barista'] }),
    wrongRole: { sub: 's1', roles: ['support'] },
    otherCustomer: true,
    ok: status.NOT_FOUND,
  },
  WatchOrder: {
    call: (c) => firstMessage(c.watchOrder({ id: order.id })),
    right: () => customer(sibling),
    wrongRole: { sub: 'loyalty', roles: ['service'] },
    otherCustomer: true,
  },
  BaristaSession: {
    call: (c) =>
      firstMessage(c.baristaSession([{ commandId: 'j', command: { $case: 'join', value: { baristaId: '', displayName: '' } } }])),
    right: () => ({ sub: 'b1', roles: ['barista'] }),
    wrongRole: { sub: 's1', roles: ['support'] },
    otherCustomer: true,
  },
  ListMenuItems: {
    call: (c) => c.listMenuItems({ pageSize: 1, pageToken: '', category: '', availableOnly: true }),
    right: () => stranger,
    wrongRole: { sub: 'loyalty', roles: ['service'] },
    otherCustomer: false,
  },
}

describe('authentication and authorization, for every OrderService RPC', () => {
  for (const [rpc, spec] of Object.entries(RPCS)) {
    it(`${rpc}: no token and an expired token are UNAUTHENTICATED; another customer and a wrong role are refused; the right token passes`, async () => {
      expect(await codeOf(spec.call(await withToken()))).toBe(status.UNAUTHENTICATED)
      expect(await codeOf(spec.call(await withToken(spec.right(), true)))).toBe(status.UNAUTHENTICATED)
      if (spec.otherCustomer) expect(await codeOf(spec.call(await withToken(stranger)))).toBe(status.PERMISSION_DENIED)
      if (rpc !== 'ListMenuItems') expect(await codeOf(spec.call(await withToken(spec.wrongRole)))).toBe(status.PERMISSION_DENIED)
      expect(await codeOf(spec.call(await withToken(spec.right())))).toBe(spec.ok ?? status.OK)
    })
  }
})

describe('grpcurl against the Order Service', () => {
  const { grpcurl, call } = grpcurlAt(() => mesh.order.address)
  it('lists the service, reads the menu and places an order for a customer through reflection', async () => {
    expect((await grpcurl([], 'list')).trim().split('\n').sort()).toEqual(['brewmesh.order.v1.OrderService', 'grpc.health.v1.Health'])
    const token = await (await testIssuer()).mint(customer(member))
    const menu = await call<{ items: { id: string }[] }>(
      token,
      { category: 'espresso', available_only: true },
      'brewmesh.order.v1.OrderService/ListMenuItems',
    )
    expect(menu.items.map((i) => i.id)).toContain(MENU_IDS.latte)
    const placed = await call<{ order: { status: string; total: { amountMinor: string } } }>(
      token,
      { request_id: randomUUID(), customer_id: member.id, lines: [{ quantity: 1, drink: { menu_item_id: MENU_IDS.americano } }] },
      'brewmesh.order.v1.OrderService/PlaceOrder',
    )
    // Americano 3.40 + 8.25 % tax (0.28) = 3.68.
    expect(placed.order).toMatchObject({ status: 'ORDER_STATUS_PLACED', total: { amountMinor: '368' } })
  })
})
