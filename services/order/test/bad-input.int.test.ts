import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import {
  BaristaCommandRejected_Reason as Reject,
  type BaristaSessionRequest,
  type BaristaSessionResponse,
} from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { errorReasonOf, fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { failure, pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { createCustomer, latte, place, placeRequest, startMesh, type Mesh } from './support.ts'

// Issue 16 for the Order Service: a user's mistake is INVALID_ARGUMENT or a documented refusal,
// never INTERNAL; the contract, the README and the behaviour say the same.

let mesh: Mesh
beforeAll(async () => {
  mesh = await startMesh()
})
afterAll(async () => {
  await mesh?.stop()
})

const fieldsOf = (err: unknown) => fieldViolationsOf(err).map((v) => v.field)

async function paidOrder(customerId?: string) {
  const id = customerId ?? (await createCustomer(mesh.customer.client)).id
  const order = await place(mesh.order.client, placeRequest(id))
  await eventually(async () =>
    expect((await mesh.order.client.getOrder({ id: order.id })).order?.status).toBe(OrderStatus.ORDER_STATUS_PAID),
  )
  return order
}

describe('BaristaSession with bad commands', () => {
  // First in this file: the queue of this file's schema is still empty.
  it('when a command is malformed, then it is answered rejected INVALID_COMMAND and the session goes on', async () => {
    const client = await mesh.order.as({ sub: 'noor', roles: ['barista'] })
    const requests = pushable<BaristaSessionRequest>()
    const session = new StreamReader<BaristaSessionResponse>(client.baristaSession(requests))
    const send = (command: BaristaSessionRequest['command'], commandId: string = randomUUID()) => {
      requests.push({ commandId, command })
      return session.next()
    }
    expect((await send({ $case: 'join', value: { baristaId: 'noor', displayName: 'Noor' } })).event?.$case).toBe('snapshot')
    expect((await session.next()).event?.$case).toBe('resumed')

    // An order id that is not a UUID: a rejection naming the field, not the end of the session.
    const notUuid = randomUUID()
    const advance = await send(
      { $case: 'advance', value: { orderId: 'order-7', expectedStatus: OrderStatus.ORDER_STATUS_PREPARING } },
      notUuid,
    )
    expect(advance).toMatchObject({ commandId: notUuid, event: { $case: 'rejected', value: { reason: Reject.REASON_INVALID_COMMAND } } })
    expect((advance.event?.value as { message: string }).message).toContain('order_id')
    const noStatus = await send({
      $case: 'advance',
      value: { orderId: randomUUID(), expectedStatus: OrderStatus.ORDER_STATUS_UNSPECIFIED },
    })
    expect(noStatus.event).toMatchObject({ $case: 'rejected', value: { reason: Reject.REASON_INVALID_COMMAND } })

    // Command ids are UUIDs: a 64 KiB one is refused without being echoed, a short non-UUID too.
    const huge = 'x'.repeat(64 * 1024)
    const oversized = await send({ $case: 'refresh', value: {} }, huge)
    expect(oversized).toMatchObject({ commandId: '', event: { $case: 'rejected', value: { reason: Reject.REASON_INVALID_COMMAND } } })
    expect(JSON.stringify(oversized).length).toBeLessThan(1000)
    const short = await send({ $case: 'refresh', value: {} }, 'c-1')
    expect(short).toMatchObject({ commandId: '', event: { $case: 'rejected', value: { reason: Reject.REASON_INVALID_COMMAND } } })

    // Claiming "the next order" with nothing queued; then with one queued, it is that one.
    const empty = await send({ $case: 'claim', value: { orderId: '' } })
    expect(empty.event).toMatchObject({ $case: 'rejected', value: { reason: Reject.REASON_QUEUE_EMPTY } })
    const order = await paidOrder()
    const refresh = randomUUID()
    requests.push({ commandId: refresh, command: { $case: 'refresh', value: {} } })
    // Pushes about the new order may come first; the session is alive and answers the refresh.
    for (;;) if ((await session.next()).commandId === refresh) break
    const claimId = randomUUID()
    requests.push({ commandId: claimId, command: { $case: 'claim', value: { orderId: '' } } })
    for (;;) {
      const m = await session.next()
      if (m.commandId !== claimId) continue
      expect(m.event).toMatchObject({ $case: 'claimed', value: { baristaId: 'noor', order: { id: order.id } } })
      break
    }
    requests.end()
  })
})

describe('PlaceOrder', () => {
  it('when a line leaves quantity unset (0), then it is one drink, the same request as quantity 1', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const request = placeRequest(customer.id, { lines: [latte(0)] })
    const order = await place(mesh.order.client, request)
    expect(order.lines[0]).toMatchObject({ quantity: 1, lineTotal: order.lines[0]?.unitPrice })
    expect((await place(mesh.order.client, { ...request, lines: [latte(1)] })).id).toBe(order.id)
  })

  it("when two customers use the same request_id, then each gets their own order (one customer's key never refuses another's)", async () => {
    const [ada, bo] = [await createCustomer(mesh.customer.client), await createCustomer(mesh.customer.client)]
    const requestId = randomUUID()
    const first = await place(mesh.order.client, placeRequest(ada.id, { requestId }))
    const second = await place(mesh.order.client, placeRequest(bo.id, { requestId, lines: [latte(2)] }))
    expect(second.id).not.toBe(first.id)
    expect([first.customerId, second.customerId]).toEqual([ada.id, bo.id])
    expect((await place(mesh.order.client, placeRequest(ada.id, { requestId }))).id).toBe(first.id)
  })

  it('when the same key is reused for a different order, then INVALID_ARGUMENT names the field, not the key', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const requestId = `k-${'7'.repeat(120)}`
    await place(mesh.order.client, placeRequest(customer.id, { requestId }))
    const err = await failure(place(mesh.order.client, placeRequest(customer.id, { requestId, lines: [latte(3)] })))
    expect(fieldsOf(err)).toEqual(['request_id'])
    expect(err.details).not.toContain(requestId)
    const long = await failure(place(mesh.order.client, placeRequest(customer.id, { requestId: 'k'.repeat(129) })))
    expect([long.code, fieldsOf(long)]).toEqual([status.INVALID_ARGUMENT, ['request_id']])
  })
})

describe('AdvanceOrder', () => {
  it('when expected_status is missing or not advanceable, then INVALID_ARGUMENT expected_status', async () => {
    const order = await paidOrder()
    for (const expectedStatus of [
      OrderStatus.ORDER_STATUS_UNSPECIFIED,
      OrderStatus.ORDER_STATUS_PLACED,
      OrderStatus.ORDER_STATUS_COMPLETED,
    ]) {
      const err = await failure(mesh.order.client.advanceOrder({ id: order.id, expectedStatus }))
      expect([err.code, fieldsOf(err)]).toEqual([status.INVALID_ARGUMENT, ['expected_status']])
    }
  })

  it('when the order was cancelled, then FAILED_PRECONDITION ORDER_CANCELLED', async () => {
    const order = await paidOrder()
    await mesh.order.client.cancelOrder({ requestId: randomUUID(), id: order.id, reason: '' })
    const err = await failure(mesh.order.client.advanceOrder({ id: order.id, expectedStatus: OrderStatus.ORDER_STATUS_PAID }))
    expect([err.code, errorReasonOf(err)]).toEqual([status.FAILED_PRECONDITION, 'ORDER_CANCELLED'])
  })
})

describe('paging', () => {
  const listOrders = (customerId: string, extra: object = {}) =>
    mesh.order.client.listOrders({ pageSize: 0, pageToken: '', customerId, householdId: '', statuses: [], ...extra })
  const listMenu = (pageSize: number, pageToken = '') =>
    mesh.order.client.listMenuItems({ pageSize, pageToken, category: '', availableOnly: false })

  it('when page_size is beyond 100, then INVALID_ARGUMENT page_size, for orders and the menu alike', async () => {
    const customer = await createCustomer(mesh.customer.client)
    expect((await listOrders(customer.id, { pageSize: 100 })).orders).toEqual([])
    expect(fieldsOf(await failure(listOrders(customer.id, { pageSize: 101 })))).toEqual(['page_size'])
    expect(fieldsOf(await failure(listMenu(101)))).toEqual(['page_size'])
    expect(fieldsOf(await failure(listMenu(-1)))).toEqual(['page_size'])
  })

  it('when ListMenuItems leaves page_size unset, then the whole menu is one page; a page of 5 continues', async () => {
    const all = await listMenu(0)
    expect(all.items.length).toBe(12)
    expect(all.nextPageToken).toBe('')
    const first = await listMenu(5)
    const rest = await listMenu(100, first.nextPageToken)
    expect([...first.items, ...rest.items].map((i) => i.id)).toEqual(all.items.map((i) => i.id))
  })

  it('when ListOrders gets a time out of range or a forged page token, then INVALID_ARGUMENT naming it', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const late = await failure(listOrders(customer.id, { placedAfter: new Date('+010000-01-01T00:00:00Z') }))
    expect([late.code, fieldsOf(late)]).toEqual([status.INVALID_ARGUMENT, ['placed_after']])
    const early = await failure(listOrders(customer.id, { placedBefore: new Date('1969-12-31T23:59:59Z') }))
    expect([early.code, fieldsOf(early)]).toEqual([status.INVALID_ARGUMENT, ['placed_before']])
    const forged = Buffer.from(JSON.stringify({ p: { t: 'yesterday', i: "'; drop table orders" }, f: 'x' })).toString('base64url')
    for (const pageToken of [forged, 'not a token', 'A'.repeat(1024)]) {
      const err = await failure(listOrders(customer.id, { pageToken }))
      expect([err.code, fieldsOf(err)]).toEqual([status.INVALID_ARGUMENT, ['page_token']])
    }
  })
})
