import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import type { Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { StatsStore } from '../domain/ports.ts'
import type { DrinkTally, OrderFact } from '../domain/stats.ts'

export const STATS_CONSUMER = 'customer-stats'

const STATUS: Record<number, OrderFact['status']> = { 1: 'placed', 2: 'paid', 3: 'preparing', 4: 'ready', 5: 'completed', 6: 'cancelled' }
const APPROVED = 2

/** What an order contributes to its customer's statistics, from the order an event carries. */
export function factOf(order: Order): OrderFact {
  const drinks = new Map<string, DrinkTally>()
  for (const line of order.lines) {
    const seen = drinks.get(line.menuItemId)
    drinks.set(line.menuItemId, { menuItemId: line.menuItemId, name: line.menuItemName, count: (seen?.count ?? 0) + line.quantity })
  }
  const status = STATUS[order.status]
  if (!status || !order.placedAt) throw new PoisonMessage(`order ${order.id} has no status or placed_at`)
  return {
    orderId: order.id,
    customerId: order.customerId.toLowerCase(),
    placedAt: order.placedAt,
    status,
    spentMinor: order.payment?.status === APPROVED ? Number(order.payment.amount?.amountMinor ?? 0) : 0,
    currency: order.total?.currencyCode ?? 'USD',
    drinks: [...drinks.values()],
    version: order.version,
  }
}

/**
 * Order events (group customer-stats, durable): each becomes the order's fact, once per event,
 * then the customer gets a (deduplicated) rollup job. A rollup that cannot be queued (Valkey down)
 * is caught up by the nightly full rollup.
 */
export function orderStatsHandler(store: StatsStore, scheduleRollup: (customerId: string) => Promise<void>) {
  return async ({ message }: ReceivedMessage): Promise<void> => {
    if (!message.value) throw new PoisonMessage('order event without a value')
    let event: OrderEvent
    try {
      event = OrderEvent.decode(message.value)
    } catch (err) {
      throw new PoisonMessage('not a brewmesh.order.v1.OrderEvent', { cause: err })
    }
    const p = event.payload
    const order = p && 'order' in p.value ? p.value.order : undefined
    const eventId = event.metadata?.eventId
    if (!eventId || !order?.id || !order.customerId) throw new PoisonMessage('order event without event id, order id or customer id')
    if (await store.recordFact(STATS_CONSUMER, eventId, factOf(order))) await scheduleRollup(order.customerId.toLowerCase())
  }
}
