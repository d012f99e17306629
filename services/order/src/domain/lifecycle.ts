import { Status } from './codes.ts'
import type { OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'

/** What AdvanceOrder (and a barista's advance) moves an order to; undefined when it cannot advance. */
export const NEXT_STATUS: Partial<Record<OrderStatus, OrderStatus>> = {
  [Status.PAID]: Status.PREPARING,
  [Status.PREPARING]: Status.READY,
  [Status.READY]: Status.COMPLETED,
}

/** Statuses CancelOrder accepts: PLACED, PAID, PREPARING. */
export const CANCELLABLE: ReadonlySet<OrderStatus> = new Set([Status.PLACED, Status.PAID, Status.PREPARING])

export const isFinal = (s: OrderStatus) => s === Status.COMPLETED || s === Status.CANCELLED

/** The timestamp field an order sets when it enters a status. */
export const ENTERED_AT = {
  [Status.PLACED]: 'placedAt',
  [Status.PAID]: 'paidAt',
  [Status.PREPARING]: 'preparingAt',
  [Status.READY]: 'readyAt',
  [Status.COMPLETED]: 'completedAt',
  [Status.CANCELLED]: 'cancelledAt',
} as const

export const statusName = (s: OrderStatus) => Object.entries(Status).find(([, v]) => v === s)?.[0] ?? String(s)
