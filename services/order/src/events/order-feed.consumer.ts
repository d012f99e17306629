import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { OrderBus } from './order-bus.ts'

/** Every replica reads the order topic (a group per instance) to feed its WatchOrder and BaristaSession streams; nothing is stored. */
export function orderFeedHandler(bus: OrderBus) {
  return async ({ message }: ReceivedMessage): Promise<void> => {
    if (!message.value) throw new PoisonMessage('order event without a value')
    let event: OrderEvent
    try {
      event = OrderEvent.decode(message.value)
    } catch (err) {
      throw new PoisonMessage('not a brewmesh.order.v1.OrderEvent', { cause: err })
    }
    if (event.orderId) bus.publish(event)
  }
}
