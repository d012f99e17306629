import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { OrderStatus, PaymentStatus, type Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { isUuid } from '@brewmesh/runtime/ids'
import { traced } from '@brewmesh/runtime/jobs'
import { decodeOrPoison, PoisonMessage, type BatchHandler, type Consumed } from '@brewmesh/runtime/kafka'
import type { StatsStore } from '../domain/ports.ts'
import { factsOf, type OrderEventFacts, type OrderFact, type OrderSnapshot } from '../domain/stats.ts'
import type { RollupJob } from '../jobs/stats-rollup.ts'

/** The durable group of the statistics consumer, and the name its event ids are recorded under. */
export const STATS_CONSUMER = 'customer-stats'

/** An order's status as a fact records it (order_facts.status). */
const STATUS: ReadonlyMap<number, OrderFact['status']> = new Map([
  [OrderStatus.ORDER_STATUS_PLACED, 'placed'],
  [OrderStatus.ORDER_STATUS_PAID, 'paid'],
  [OrderStatus.ORDER_STATUS_PREPARING, 'preparing'],
  [OrderStatus.ORDER_STATUS_READY, 'ready'],
  [OrderStatus.ORDER_STATUS_COMPLETED, 'completed'],
  [OrderStatus.ORDER_STATUS_CANCELLED, 'cancelled'],
])

/** The order an event carries, as statistics read it; PoisonMessage for one they can never use. */
export function snapshotOf(order: Order): OrderSnapshot {
  const status = STATUS.get(order.status)
  if (!status || !order.placedAt) throw new PoisonMessage(`order ${order.id} has no status or placed_at`)
  const payerId = order.customerId.toLowerCase()
  const lines = order.lines.map((line) => ({
    // A line without a member was for the payer.
    memberId: (line.memberCustomerId || payerId).toLowerCase(),
    menuItemId: line.menuItemId,
    name: line.menuItemName,
    quantity: line.quantity,
  }))
  // Customer ids are uuid columns: one that is not would fail the whole chunk's transaction.
  if (!isUuid(order.id) || !isUuid(payerId) || lines.some((l) => !isUuid(l.memberId))) {
    throw new PoisonMessage(`order ${order.id}: order, customer or member id is not a UUID`)
  }
  return {
    orderId: order.id.toLowerCase(),
    payerId,
    placedAt: order.placedAt,
    status,
    paidMinor: order.payment?.status === PaymentStatus.PAYMENT_STATUS_APPROVED ? Number(order.payment.amount?.amountMinor ?? 0) : 0,
    currency: order.total?.currencyCode ?? 'USD',
    version: order.version,
    lines,
  }
}

/** The facts an order event gives; PoisonMessage for an event statistics can never use. */
export function eventFacts(event: OrderEvent): OrderEventFacts {
  const p = event.payload
  const order = p && 'order' in p.value ? p.value.order : undefined
  const eventId = event.metadata?.eventId
  if (!eventId || !order?.id || !order.customerId) throw new PoisonMessage('order event without event id, order id or customer id')
  return { eventId, facts: factsOf(snapshotOf(order)) }
}

/**
 * Order events (group customer-stats, durable), a chunk at a time: the chunk's facts (one per
 * order and customer: the payer and each member with a drink) are recorded in one transaction
 * with its event ids, then every customer they touched gets one (deduplicated, debounced) rollup
 * job, continuing the trace of that customer's last event.
 */
export function orderStatsHandler(
  store: StatsStore,
  scheduleRollups: (rollups: RollupJob[]) => Promise<void>,
): BatchHandler<OrderEventFacts> {
  return {
    decode: (received) => eventFacts(decodeOrPoison(received, OrderEvent, 'brewmesh.order.v1.OrderEvent')),
    handleBatch: async (items) => {
      const fresh = await store.recordFacts(
        STATS_CONSUMER,
        items.map((i) => i.value),
      )
      const lastEventOf = new Map<string, Consumed<OrderEventFacts>>()
      for (const item of items) {
        if (fresh.has(item.value.eventId)) for (const fact of item.value.facts) lastEventOf.set(fact.customerId, item)
      }
      if (lastEventOf.size > 0)
        await scheduleRollups([...lastEventOf].map(([customerId, item]) => item.inTrace(() => traced({ customerId }))))
    },
  }
}
