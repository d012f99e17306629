import { randomUUID } from 'node:crypto'
import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { ActorKind } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import { DrinkSize, MilkType, Temperature } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { CancelReasonCode, LineSource, type Order, OrderKind, OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { produceRaw } from './kafka.ts'

/**
 * Events in the contracts' wire format (proto/brewmesh/{order,customer}/v1/events.proto), for
 * consumer tests of the services that read another service's topic: the bytes, key and headers
 * are exactly what that service's outbox relay publishes.
 */
export interface ContractMessage {
  key: string
  value: Buffer
  headers: Record<string, string>
}

/** The menu item id of the default order line (a medium oat latte). */
export const TEST_LATTE_ID = '4f1b2c3d-0000-4000-8000-00000000a7e1'

/** ts-proto's deep partial of a message, as its fromPartial takes it. */
type PartialOrder = Parameters<typeof Order.fromPartial>[0]
type PartialEvent = Parameters<typeof OrderEvent.fromPartial>[0]

const USD = (amountMinor: number) => ({ amountMinor: String(amountMinor), currencyCode: 'USD' })

/** An order with one line per given drink; totals in minor units. */
export function testOrder(overrides: PartialOrder & { customerId: string }): PartialOrder {
  const lines = overrides.lines ?? [
    {
      id: randomUUID(),
      menuItemId: TEST_LATTE_ID,
      menuItemName: 'Caffè Latte',
      category: 'espresso',
      customization: {
        size: DrinkSize.DRINK_SIZE_MEDIUM,
        milk: MilkType.MILK_TYPE_OAT,
        extraShots: 0,
        syrups: [],
        temperature: Temperature.TEMPERATURE_HOT,
      },
      quantity: 1,
      unitPrice: USD(450),
      lineTotal: USD(450),
      memberCustomerId: overrides.customerId,
      source: LineSource.LINE_SOURCE_MENU,
    },
  ]
  const subtotal = lines.reduce((sum, line) => sum + Number(line?.lineTotal?.amountMinor ?? 0), 0)
  return {
    id: randomUUID(),
    kind: OrderKind.ORDER_KIND_SINGLE,
    status: OrderStatus.ORDER_STATUS_PLACED,
    subtotal: USD(subtotal),
    discount: USD(0),
    tax: USD(0),
    total: USD(subtotal),
    requestId: randomUUID(),
    version: 1,
    placedAt: new Date(),
    ...overrides,
    lines,
  }
}

type OrderPayload = NonNullable<OrderEvent['payload']>['$case']

const ORDER_TYPE_NAMES: Record<OrderPayload, string> = {
  placed: 'brewmesh.order.v1.OrderPlaced',
  paymentProcessed: 'brewmesh.order.v1.PaymentProcessed',
  statusChanged: 'brewmesh.order.v1.OrderStatusChanged',
  completed: 'brewmesh.order.v1.OrderCompleted',
  cancelled: 'brewmesh.order.v1.OrderCancelled',
  assignmentChanged: 'brewmesh.order.v1.OrderAssignmentChanged',
}

function headers(eventId: string, eventType: string, source: string, occurredAt: Date): Record<string, string> {
  return { 'event-id': eventId, 'event-type': eventType, 'event-time': occurredAt.toISOString(), 'event-source': source }
}

/** One order event as the Order Service's outbox publishes it (key = order id). */
export function orderEvent(
  order: PartialOrder,
  payload: NonNullable<PartialEvent['payload']>,
  options: { eventId?: string; occurredAt?: Date } = {},
): ContractMessage {
  const eventId = options.eventId ?? randomUUID()
  const occurredAt = options.occurredAt ?? new Date()
  const type = ORDER_TYPE_NAMES[payload.$case]
  const event = OrderEvent.fromPartial({
    metadata: { eventId, eventType: type, occurredAt, source: 'order' },
    orderId: order.id ?? '',
    customerId: order.customerId ?? '',
    householdId: order.householdId ?? '',
    version: order.version ?? 1,
    status: order.status ?? OrderStatus.ORDER_STATUS_UNSPECIFIED,
    payload,
  })
  return { key: event.orderId, value: Buffer.from(OrderEvent.encode(event).finish()), headers: headers(eventId, type, 'order', occurredAt) }
}

/** OrderCompleted for the order (status COMPLETED, version bumped). */
export function orderCompleted(order: PartialOrder, options: { eventId?: string; occurredAt?: Date } = {}): ContractMessage {
  const at = options.occurredAt ?? new Date()
  const completed = { ...order, status: OrderStatus.ORDER_STATUS_COMPLETED, version: (order.version ?? 1) + 4, completedAt: at }
  return orderEvent(
    completed,
    { $case: 'completed', value: { order: completed, completedBy: { kind: ActorKind.ACTOR_KIND_STAFF, id: 'barista-1' } } },
    options,
  )
}

/** OrderCancelled for the order; `code` tells a customer's cancellation from a declined payment. */
export function orderCancelled(
  order: PartialOrder,
  code: CancelReasonCode = CancelReasonCode.CANCEL_REASON_CODE_CUSTOMER_REQUEST,
  options: { eventId?: string; occurredAt?: Date } = {},
): ContractMessage {
  const at = options.occurredAt ?? new Date()
  const cancelled = { ...order, status: OrderStatus.ORDER_STATUS_CANCELLED, version: (order.version ?? 1) + 2, cancelledAt: at }
  return orderEvent(cancelled, { $case: 'cancelled', value: { order: cancelled, reasonCode: code, reason: 'changed my mind' } }, options)
}

/** PaymentProcessed (approved or declined) for the order. */
export function paymentProcessed(order: PartialOrder, approved: boolean, options: { eventId?: string } = {}): ContractMessage {
  const paid = {
    ...order,
    status: approved ? OrderStatus.ORDER_STATUS_PAID : OrderStatus.ORDER_STATUS_PLACED,
    version: (order.version ?? 1) + 1,
  }
  const message = orderEvent(
    paid,
    { $case: 'paymentProcessed', value: { approved, amount: order.total, order: paid, declineReason: approved ? '' : 'card declined' } },
    options,
  )
  // The Order Service names a payment's outcome in a header too (its events/order-events.ts).
  return { ...message, headers: { ...message.headers, 'event-outcome': approved ? 'approved' : 'declined' } }
}

/** CustomerCreated / CustomerDeleted as the Customer service's outbox publishes them (key = customer id). */
export function customerEvent(
  kind: 'created' | 'deleted',
  customer: { id: string; householdId?: string; displayName?: string },
  options: { eventId?: string; occurredAt?: Date } = {},
): ContractMessage {
  const eventId = options.eventId ?? randomUUID()
  const occurredAt = options.occurredAt ?? new Date()
  const type = kind === 'created' ? 'brewmesh.customer.v1.CustomerCreated' : 'brewmesh.customer.v1.CustomerDeleted'
  const proto = { id: customer.id, householdId: customer.householdId ?? '', displayName: customer.displayName ?? 'Member', version: 1 }
  const event = CustomerEvent.fromPartial({
    metadata: { eventId, eventType: type, occurredAt, source: 'customer' },
    customerId: customer.id,
    householdId: customer.householdId ?? '',
    version: 1,
    payload: kind === 'created' ? { $case: 'created', value: { customer: proto } } : { $case: 'deleted', value: { customer: proto } },
  })
  return {
    key: customer.id,
    value: Buffer.from(CustomerEvent.encode(event).finish()),
    headers: headers(eventId, type, 'customer', occurredAt),
  }
}

/** Publishes contract messages to a topic (created on first use). */
export const publish = (brokers: string, topic: string, messages: ContractMessage[]) => produceRaw(brokers, topic, messages)
