import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { decodeOrPoison, type BatchHandler } from '@brewmesh/runtime/kafka'
import type { FanOut } from '@brewmesh/runtime/streams'
import type { OrderChange } from '../domain/ports.ts'
import { changeFromEvent } from './order-events.ts'

/** The key BaristaSession streams follow: every order (WatchOrder follows one order's id). */
export const EVERY_ORDER = '*'

/**
 * Every replica reads the order topic (a group per instance) to feed its WatchOrder and
 * BaristaSession streams, a chunk at a time; nothing is stored, and streams drop versions they
 * have seen, so redelivery is harmless. With no stream open, nothing is decoded: a stream follows
 * what happens after it opened (WatchOrder reads its snapshot after subscribing).
 */
export function orderFeedHandler(changes: FanOut<OrderChange>): BatchHandler<OrderEvent | undefined> {
  return {
    decode: (received) => (changes.empty ? undefined : decodeOrPoison(received, OrderEvent, 'brewmesh.order.v1.OrderEvent')),
    handleBatch: async (items) => {
      if (changes.empty) return
      for (const { value: event } of items) {
        const change = event?.orderId ? changeFromEvent(event) : undefined
        if (change) changes.publish([change.order.id, EVERY_ORDER], change)
      }
    },
  }
}
