import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { decodeOrPoison, type BatchHandler } from '@brewmesh/runtime/kafka/consumer.ts'
import type { OrderBus } from './order-bus.ts'

/**
 * Every replica reads the order topic (a group per instance) to feed its WatchOrder and
 * BaristaSession streams, a chunk at a time; nothing is stored, and streams drop versions they
 * have seen, so redelivery is harmless.
 */
export function orderFeedHandler(bus: OrderBus): BatchHandler<OrderEvent> {
  return {
    decode: (received) => decodeOrPoison(received, OrderEvent, 'brewmesh.order.v1.OrderEvent'),
    handleBatch: async (items) => {
      for (const { value: event } of items) if (event.orderId) bus.publish(event)
    },
  }
}
