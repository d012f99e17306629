import type { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'

export type OrderListener = (event: OrderEvent) => void

/**
 * In-process fan-out of the order events this replica consumed, to open WatchOrder streams (by
 * order) and BaristaSession streams (every order). Every replica reads the whole topic in its own
 * consumer group, so a stream sees changes made through any replica.
 */
export class OrderBus {
  private readonly byOrder = new Map<string, Set<OrderListener>>()
  private readonly everything = new Set<OrderListener>()

  publish(event: OrderEvent): void {
    for (const listener of this.byOrder.get(event.orderId) ?? []) listener(event)
    for (const listener of this.everything) listener(event)
  }

  /** Listens to one order, or to every order with '*'; returns the unsubscribe function. */
  subscribe(orderId: string, listener: OrderListener): () => void {
    if (orderId === '*') {
      this.everything.add(listener)
      return () => this.everything.delete(listener)
    }
    let set = this.byOrder.get(orderId)
    if (!set) this.byOrder.set(orderId, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.byOrder.get(orderId) === set) this.byOrder.delete(orderId)
    }
  }
}
