import { DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { Order as OrderMessage } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import type { EnteredAt, Order, OrderLine, Payment } from '../domain/order.ts'
import { orderFromProto } from '../proto/order-mapper.ts'

/**
 * How an order is kept in orders.doc: the domain Order as JSON, times as ISO strings. A line's
 * customization is the contract's own value type, so it is read with the contract's proto3 JSON
 * reader (enum values by name, as orders placed before 0003 hold them, or by number).
 */
export const orderToDoc = (order: Order): string => JSON.stringify(order)

type Stored<T, Dates extends keyof T> = Omit<T, Dates> & Record<Dates, string | undefined>
type StoredOrder = Stored<Omit<Order, 'lines' | 'payment' | 'entered'>, 'claimedAt' | 'updatedAt'> & {
  lines: (Omit<OrderLine, 'customization'> & { customization: unknown })[]
  payment: Stored<Payment, 'processedAt' | 'refundedAt'>
  entered: Record<string, string>
}

const time = (value: string | undefined) => (value === undefined ? undefined : new Date(value))

export function orderFromDoc(doc: unknown): Order {
  // The contract's proto3 JSON, as orders.doc held it before 0003: still written by a replica of
  // the previous release during a rolling deploy, so it is read as it was read then.
  if (doc && typeof doc === 'object' && !('entered' in doc)) return orderFromProto(OrderMessage.fromJSON(doc))
  const d = doc as StoredOrder
  return {
    ...d,
    lines: d.lines.map((l) => ({ ...l, customization: DrinkCustomization.fromJSON(l.customization ?? {}) })),
    payment: { ...d.payment, processedAt: time(d.payment.processedAt), refundedAt: time(d.payment.refundedAt) },
    claimedAt: time(d.claimedAt),
    entered: Object.fromEntries(Object.entries(d.entered).map(([status, at]) => [status, new Date(at)])) as EnteredAt,
    updatedAt: new Date(d.updatedAt ?? 0),
  }
}
