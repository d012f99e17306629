import { describe, expect, it } from 'vitest'
import { WatchOrderResponse_ChangeKind as Kind, type WatchOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { permissionDenied } from '@brewmesh/runtime/errors'
import type { Call } from '@brewmesh/runtime/grpc'
import { createLogger } from '@brewmesh/runtime/logger'
import { FanOut } from '@brewmesh/runtime/streams'
import type { Order } from '../src/domain/order.ts'
import type { OrderChange } from '../src/domain/ports.ts'
import { watchOrder } from '../src/grpc/watch-order.ts'
import { PAYER, placedOrder, T0 } from './domain/fixtures.ts'
import { MemoryStore } from './domain/memory-store.ts'

// WatchOrder's stream over the real in-process fan-out: what it sends, and that it lets go of its
// subscription however it ends (final order, caller gone, caller gone while opening, overflow).

const ORDER = placedOrder({ status: 'paid', version: 2 })

function watching(options: { caller?: string; id?: string } = {}) {
  const memory = new MemoryStore([ORDER])
  const changes = new FanOut<OrderChange>()
  const controller = new AbortController()
  const call: Call = {
    caller: { kind: 'customer', subject: options.caller ?? PAYER, householdId: undefined },
    authorize(target) {
      if (target.customerId !== this.caller.subject) throw permissionDenied('not yours')
    },
    signal: controller.signal,
    deadline: undefined,
    log: createLogger({ level: 'silent', service: 'test', instanceId: 'test' }),
  }
  const stream = watchOrder(memory.deps(), changes, options.id ?? ORDER.id, call)[Symbol.asyncIterator]()
  return { stream, changes, controller }
}

const changed = (version: number, status: Order['status'], previous: Order['status']): OrderChange => ({
  kind: 'status_changed',
  order: { ...ORDER, version, status },
  at: T0,
  previous,
  by: { kind: 'system', id: 'test', displayName: 'test' },
})

const sent = async (next: Promise<IteratorResult<WatchOrderResponse, undefined>>) => {
  const step = await next
  return step.done ? 'done' : [step.value.kind, step.value.order?.version, step.value.previousStatus]
}

describe('a WatchOrder stream', () => {
  it('sends the order now, then each newer change, and ends once the order is final, unsubscribed', async () => {
    const { stream, changes } = watching()
    expect(await sent(stream.next())).toEqual([Kind.CHANGE_KIND_SNAPSHOT, 2, OrderStatus.ORDER_STATUS_UNSPECIFIED])
    expect(changes.listenerCount).toBe(1)
    changes.publish(ORDER.id, changed(2, 'paid', 'placed')) // what the snapshot already shows
    changes.publish(ORDER.id, changed(3, 'preparing', 'paid'))
    changes.publish(ORDER.id, changed(3, 'preparing', 'paid')) // a redelivery
    changes.publish(ORDER.id, changed(4, 'cancelled', 'preparing'))
    expect(await sent(stream.next())).toEqual([Kind.CHANGE_KIND_STATUS_CHANGED, 3, OrderStatus.ORDER_STATUS_PAID])
    expect(await sent(stream.next())).toEqual([Kind.CHANGE_KIND_STATUS_CHANGED, 4, OrderStatus.ORDER_STATUS_PREPARING])
    expect(await sent(stream.next())).toBe('done')
    expect(changes.listenerCount).toBe(0)
  })

  it('when the caller leaves, the subscription goes with it', async () => {
    const { stream, changes, controller } = watching()
    await stream.next()
    const waiting = stream.next()
    controller.abort()
    await stream.return!()
    expect(await sent(waiting)).toBe('done')
    expect(changes.listenerCount).toBe(0)
  })

  it('when the caller leaves while it opens, nothing is sent and nothing stays subscribed', async () => {
    const { stream, changes } = watching()
    const opening = stream.next()
    await stream.return!()
    expect(await sent(opening)).toBe('done')
    expect(changes.listenerCount).toBe(0)
  })

  it('follows the order named in upper case as the feed names it', async () => {
    const { stream, changes } = watching({ id: ORDER.id.toUpperCase() })
    await stream.next()
    changes.publish(ORDER.id, changed(3, 'preparing', 'paid'))
    expect(await sent(stream.next())).toEqual([Kind.CHANGE_KIND_STATUS_CHANGED, 3, OrderStatus.ORDER_STATUS_PAID])
  })

  it('is refused to a customer the order is not for, and lets go of its subscription', async () => {
    const { stream, changes } = watching({ caller: '22222222-2222-4222-8222-222222222222' })
    await expect(stream.next()).rejects.toMatchObject({ message: 'not yours' })
    expect(changes.listenerCount).toBe(0)
  })

  it('when the watcher falls too far behind, the stream fails and unsubscribes', async () => {
    const { stream, changes } = watching()
    await stream.next()
    for (let v = 3; v < 200; v++) changes.publish(ORDER.id, changed(v, 'preparing', 'paid'))
    await expect(stream.next()).rejects.toThrow(/reads too slowly/)
    expect(changes.listenerCount).toBe(0)
  })
})
