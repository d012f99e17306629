import { randomUUID } from 'node:crypto'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { OrderStatus, type Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { accessCases } from '@brewmesh/testkit/access-matrix.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { grpcurlAt } from '@brewmesh/testkit/grpcurl.ts'
import { customer } from '@brewmesh/testkit/principals.ts'
import { bearer } from '@brewmesh/testkit/tokens.ts'
import { ACCESS } from '../src/grpc/access.ts'
import { createCustomer, latte, MENU_IDS, place, placeGroup, placeRequest, startMesh, type Mesh, type OrderClient } from './support.ts'

let mesh: Mesh
const household = randomUUID()
let member: Customer // the customer the calls are about
let sibling: Customer
let order: Order // member's paid order
let toCancel: Order // member's order the allowed callers cancel
beforeAll(async () => {
  mesh = await startMesh()
  member = await createCustomer(mesh.customer.client, { householdId: household })
  sibling = await createCustomer(mesh.customer.client, { householdId: household })
  order = await place(mesh.order.client, placeRequest(member.id))
  toCancel = await place(mesh.order.client, placeRequest(member.id))
  await eventually(async () =>
    expect((await mesh.order.client.getOrder({ id: order.id })).order?.status).toBe(OrderStatus.ORDER_STATUS_PAID),
  )
})
const clients: OrderClient[] = []
afterAll(async () => {
  clients.forEach((c) => c.close())
  await mesh?.stop()
})

const withToken = (token?: string) => {
  const c = createClient(
    OrderServiceService,
    mesh.order.address,
    credentials.createInsecure(),
    token ? { interceptors: [bearer(token)] } : {},
  )
  clients.push(c)
  return c
}
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  )
/** A stream's outcome: its first message (then the call is cancelled), or its status. */
const firstMessage = async (messages: AsyncIterable<unknown>) => {
  for await (const _ of messages) return
}

/** Every RPC, about `member` (or their household), and the status a caller its rule admits gets. */
const RPCS: Record<keyof typeof ACCESS, { call: (c: OrderClient) => Promise<unknown>; passed?: status }> = {
  PlaceOrder: { call: (c) => place(c, placeRequest(member.id)) },
  PlaceGroupOrder: { call: (c) => placeGroup(c, { requestId: randomUUID(), customerId: member.id }, [latte(1, sibling.id)]) },
  GetOrder: { call: (c) => c.getOrder({ id: order.id }) },
  ListOrders: {
    call: (c) => c.listOrders({ pageSize: 5, pageToken: '', customerId: member.id, householdId: household, statuses: [] }),
  },
  // Cancelling a cancelled order answers it unchanged: every admitted caller gets OK.
  CancelOrder: { call: (c) => c.cancelOrder({ requestId: randomUUID(), id: toCancel.id, reason: 'auth' }) },
  // An order that does not exist: admitted callers get as far as NOT_FOUND.
  AdvanceOrder: {
    call: (c) => c.advanceOrder({ id: randomUUID(), expectedStatus: OrderStatus.ORDER_STATUS_PAID }),
    passed: status.NOT_FOUND,
  },
  ListMenuItems: { call: (c) => c.listMenuItems({ pageSize: 1, pageToken: '', category: '', availableOnly: true }) },
  GetMenuItem: { call: (c) => c.getMenuItem({ id: MENU_IDS.latte }) },
  WatchOrder: { call: (c) => firstMessage(c.watchOrder({ id: order.id })) },
  BaristaSession: {
    call: (c) =>
      firstMessage(c.baristaSession([{ commandId: randomUUID(), command: { $case: 'join', value: { baristaId: '', displayName: '' } } }])),
  },
}

/** The menu is about nobody: every signed-in customer reads it (the rule's `self`, with the caller as the target). */
const OPEN_TO_CUSTOMERS = new Set<keyof typeof ACCESS>(['ListMenuItems', 'GetMenuItem'])

describe('authentication and authorization, for every OrderService RPC', () => {
  for (const [rpc, spec] of Object.entries(RPCS) as [keyof typeof ACCESS, (typeof RPCS)[keyof typeof ACCESS]][]) {
    it(`${rpc}: no token and an expired token are UNAUTHENTICATED; every caller its access rule names passes, every other is PERMISSION_DENIED`, async () => {
      expect(await codeOf(spec.call(withToken()))).toBe(status.UNAUTHENTICATED)
      expect(await codeOf(spec.call(withToken(await mesh.order.issuer.mint(customer(member.id, household), { expiresIn: -120 }))))).toBe(
        status.UNAUTHENTICATED,
      )
      for (const c of accessCases(ACCESS[rpc], member.id, household)) {
        const allowed = c.allowed || (OPEN_TO_CUSTOMERS.has(rpc) && c.claims.roles.includes('customer'))
        const code = await codeOf(spec.call(withToken(await mesh.order.issuer.mint(c.claims))))
        expect({ caller: c.who, code }).toEqual({ caller: c.who, code: allowed ? (spec.passed ?? status.OK) : status.PERMISSION_DENIED })
      }
    })
  }
})

describe('grpcurl against the Order Service', () => {
  const { grpcurl, call } = grpcurlAt(() => mesh.order.address)
  it('lists the service, reads the menu and places an order for a customer through reflection', async () => {
    expect((await grpcurl([], 'list')).trim().split('\n').sort()).toEqual(['brewmesh.order.v1.OrderService', 'grpc.health.v1.Health'])
    const token = await mesh.order.issuer.mint(customer(member.id, household))
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
