import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OrderStatus, type Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import {
  BaristaCommandRejected_Reason as Reject,
  type BaristaSessionRequest,
  type BaristaSessionResponse,
} from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { createCustomer, place, placeRequest, startMesh, type Mesh, type OrderClient } from './support.ts'

let mesh: Mesh
beforeAll(async () => {
  mesh = await startMesh()
})
afterAll(async () => {
  await mesh?.stop()
})

/** A barista's tablet: a session stream and everything it received. */
class Tablet {
  readonly requests = pushable<BaristaSessionRequest>()
  readonly received: BaristaSessionResponse[] = []
  private readonly connection = new AbortController()

  constructor(client: OrderClient, baristaId: string) {
    const responses = client.baristaSession(this.requests, { signal: this.connection.signal })
    void (async () => {
      for await (const m of responses) this.received.push(m)
    })().catch(() => undefined)
    this.send({ $case: 'join', value: { baristaId, displayName: baristaId } })
  }

  send(command: BaristaSessionRequest['command'], commandId: string = randomUUID()): string {
    this.requests.push({ commandId, command })
    return commandId
  }

  /** Half-closes the session: the server ends it. */
  end(): void {
    this.requests.end()
  }

  /** The connection drops (the tablet goes away without a word). */
  drop(): void {
    this.connection.abort()
  }

  answer(commandId: string): Promise<BaristaSessionResponse> {
    return eventually(() => {
      const m = this.received.find((r) => r.commandId === commandId)
      if (!m) throw new Error(`no answer to ${commandId} yet`)
      return m
    })
  }

  pushed(orderId: string, $case: string): Promise<BaristaSessionResponse> {
    return eventually(() => {
      const m = this.received.find(
        (r) => r.commandId === '' && r.event?.$case === $case && (r.event.value as { order?: Order }).order?.id === orderId,
      )
      if (!m) throw new Error(`no ${$case} push for ${orderId} yet`)
      return m
    })
  }
}

async function paidOrder(): Promise<Order> {
  const customer = await createCustomer(mesh.customer.client)
  const order = await place(mesh.order.client, placeRequest(customer.id))
  await eventually(async () => {
    const r = await mesh.order.client.getOrder({ id: order.id })
    expect(r.order?.status).toBe(OrderStatus.ORDER_STATUS_PAID)
  })
  return order
}

describe('BaristaSession', () => {
  it('two baristas on two replicas: paid orders arrive in both queues, only one claim wins, the other sees it taken', async () => {
    const replica = await mesh.startOrder()
    const maria = new Tablet(await mesh.order.as({ sub: 'maria', roles: ['barista'] }), 'maria')
    const sam = new Tablet(await replica.as({ sub: 'sam', roles: ['barista'] }), 'sam')
    await eventually(() => expect(maria.received.map((m) => m.event?.$case)).toEqual(['snapshot', 'resumed']))
    await eventually(() => expect(sam.received.map((m) => m.event?.$case)).toEqual(['snapshot', 'resumed']))

    const order = await paidOrder()
    await maria.pushed(order.id, 'available')
    await sam.pushed(order.id, 'available')
    const [a, b] = await Promise.all([
      maria.answer(maria.send({ $case: 'claim', value: { orderId: order.id } })),
      sam.answer(sam.send({ $case: 'claim', value: { orderId: order.id } })),
    ])
    const outcomes = [a, b].map((m) => m.event?.$case).sort()
    expect(outcomes).toEqual(['claimed', 'rejected'])
    const winner = a.event?.$case === 'claimed' ? maria : sam
    const loser = winner === maria ? sam : maria
    const rejected = (winner === maria ? b : a).event
    expect(rejected).toMatchObject({ $case: 'rejected', value: { reason: Reject.REASON_ALREADY_CLAIMED } })
    const claimedPush = await loser.pushed(order.id, 'claimed')
    expect(claimedPush.event).toMatchObject({
      value: { baristaId: winner === maria ? 'maria' : 'sam', order: { status: OrderStatus.ORDER_STATUS_PREPARING } },
    })

    // Only the holder advances it; READY then COMPLETED (removed from the queue).
    const notMine = await loser.answer(
      loser.send({ $case: 'advance', value: { orderId: order.id, expectedStatus: OrderStatus.ORDER_STATUS_PREPARING } }),
    )
    expect(notMine.event).toMatchObject({ $case: 'rejected', value: { reason: Reject.REASON_NOT_CLAIMED_BY_YOU } })
    const ready = await winner.answer(
      winner.send({ $case: 'advance', value: { orderId: order.id, expectedStatus: OrderStatus.ORDER_STATUS_PREPARING } }),
    )
    expect(ready.event).toMatchObject({
      $case: 'advanced',
      value: { order: { status: OrderStatus.ORDER_STATUS_READY }, previousStatus: OrderStatus.ORDER_STATUS_PREPARING },
    })
    // Advancing from PREPARING again (a new command, a stale screen) finds READY reached: unchanged.
    const retried = await winner.answer(
      winner.send({ $case: 'advance', value: { orderId: order.id, expectedStatus: OrderStatus.ORDER_STATUS_PREPARING } }),
    )
    expect(retried.event).toEqual(ready.event)
    const mismatch = await winner.answer(
      winner.send({ $case: 'advance', value: { orderId: order.id, expectedStatus: OrderStatus.ORDER_STATUS_PAID } }),
    )
    expect(mismatch.event).toMatchObject({
      $case: 'rejected',
      value: { reason: Reject.REASON_STATUS_MISMATCH, order: { id: order.id, status: OrderStatus.ORDER_STATUS_READY } },
    })
    const done = await winner.answer(
      winner.send({ $case: 'advance', value: { orderId: order.id, expectedStatus: OrderStatus.ORDER_STATUS_READY } }),
    )
    expect(done.event).toMatchObject({ $case: 'removed', value: { order: { status: OrderStatus.ORDER_STATUS_COMPLETED } } })
    await loser.pushed(order.id, 'removed')
    maria.end()
    sam.end()
  })

  it('a barista who reconnects gets the orders they hold back; a released order returns to the queue', async () => {
    const order = await paidOrder()
    const first = new Tablet(await mesh.order.as({ sub: 'lee', roles: ['barista'] }), 'lee')
    const claimId = randomUUID()
    const claimed = await first.answer(first.send({ $case: 'claim', value: { orderId: order.id } }, claimId))
    expect(claimed.event?.$case).toBe('claimed')
    first.drop()

    const again = new Tablet(await mesh.order.as({ sub: 'lee', roles: ['barista'] }), 'lee')
    const resumed = await eventually(() => {
      const m = again.received.find((r) => r.event?.$case === 'resumed')
      if (!m) throw new Error('not resumed yet')
      return m
    })
    expect(resumed.event).toMatchObject({ value: { baristaId: 'lee', claimedOrders: [{ id: order.id, baristaId: 'lee' }] } })
    // The claim resent after the reconnect (the tablet never saw its answer): the same answer, applied once.
    const resent = await again.answer(again.send({ $case: 'claim', value: { orderId: order.id } }, claimId))
    expect(resent).toEqual(claimed)
    const now = await mesh.order.client.getOrder({ id: order.id })
    expect(now.order?.version).toBe((claimed.event?.value as { order: Order }).order.version)
    const released = await again.answer(again.send({ $case: 'release', value: { orderId: order.id, reason: 'machine down' } }))
    expect(released.event).toMatchObject({
      $case: 'released',
      value: { order: { baristaId: '', status: OrderStatus.ORDER_STATUS_PREPARING } },
    })
    const snapshot = await again.answer(again.send({ $case: 'refresh', value: {} }))
    expect(snapshot.event).toMatchObject({ $case: 'snapshot' })
    expect((snapshot.event?.value as { queue: Order[] }).queue.map((o) => o.id)).toContain(order.id)
    again.end()
  })

  it('rejects commands before join, and a staff token joining as someone else ends the stream', async () => {
    const client = await mesh.order.as({ sub: 'kim', roles: ['barista'] })
    const requests = pushable<BaristaSessionRequest>()
    const reader = new StreamReader<BaristaSessionResponse>(client.baristaSession(requests))
    requests.push({ commandId: randomUUID(), command: { $case: 'claim', value: { orderId: randomUUID() } } })
    expect((await reader.next()).event).toMatchObject({ $case: 'rejected', value: { reason: Reject.REASON_NOT_JOINED } })
    requests.push({ commandId: randomUUID(), command: { $case: 'join', value: { baristaId: 'somebody-else', displayName: '' } } })
    expect((await reader.end())?.code).toBe(status.PERMISSION_DENIED)
    const customer = await mesh.order.as({ sub: randomUUID(), roles: ['customer'] })
    const refused = new StreamReader(customer.baristaSession(pushable<BaristaSessionRequest>()))
    expect((await refused.end())?.code).toBe(status.PERMISSION_DENIED)
  })
})
