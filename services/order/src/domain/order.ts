import type { DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'

/**
 * The order model as the domain sees it: plain data, no transport or storage types. Every amount
 * of an order is in integer minor units of the order's one currency (`Order.currency`); the proto
 * mapper (src/proto/order-mapper.ts) turns them into the contract's Money. A drink's
 * customization is the contract's own value type (brewmesh.common.v1.DrinkCustomization), shared
 * by every service: the domain only compares its enum values, never names one.
 */

export type { DrinkCustomization }

export type OrderStatus = 'placed' | 'paid' | 'preparing' | 'ready' | 'completed' | 'cancelled'
export type PaymentStatus = 'pending' | 'approved' | 'declined' | 'refunded' | 'voided'
export type OrderKind = 'single' | 'group'
/** Where a line's drink came from: chosen from the menu, or the member's usual. */
export type LineSource = 'menu' | 'usual'
export type CancelCode = 'customer_request' | 'staff_request' | 'payment_declined'
export type ActorKind = 'customer' | 'staff' | 'service' | 'system'

export interface Actor {
  kind: ActorKind
  id: string
  displayName: string
}

export interface OrderLine {
  id: string
  menuItemId: string
  /** Snapshots of the menu item at placement. */
  menuItemName: string
  category: string
  /** Fully resolved: every field the caller left unspecified filled from the recipe. */
  customization: DrinkCustomization
  quantity: number
  /** base price + size delta + milk, syrup and extra shot surcharges. */
  unitPrice: number
  /** unitPrice * quantity. */
  lineTotal: number
  /** The member the drink is for (the payer on single orders). */
  memberCustomerId: string
  memberDisplayName: string
  source: LineSource
  /** The pinned favorite a usual came from; empty otherwise. */
  favoriteId: string
}

/** A loyalty reward redeemed on the order (its points reserved by the Loyalty service). */
export interface AppliedReward {
  rewardId: string
  redemptionId: string
  rewardName: string
  discount: number
  /** Points reserved, as the Loyalty service counts them (an int64, exact). */
  pointsCost: string
  /** Lines the discount applies to; empty: the whole order. */
  lineIds: string[]
}

export interface Payment {
  status: PaymentStatus
  /** The order total, charged (or to be charged). */
  amount: number
  processorReference: string
  declineReason: string
  refundedAmount: number | undefined
  processedAt: Date | undefined
  refundedAt: Date | undefined
}

/** One member's share of a group order; the shares sum exactly to the order's totals. */
export interface MemberBreakdown {
  memberCustomerId: string
  displayName: string
  lineIds: string[]
  itemCount: number
  subtotal: number
  discount: number
  tax: number
  total: number
}

/** When the order entered each status it reached. */
export type EnteredAt = { placed: Date } & Partial<Record<Exclude<OrderStatus, 'placed'>, Date>>

export interface Order {
  id: string
  /** The payer. */
  customerId: string
  /** The payer's household at placement; empty when none. */
  householdId: string
  customerDisplayName: string
  kind: OrderKind
  status: OrderStatus
  currency: string
  lines: OrderLine[]
  subtotal: number
  /** Sum of the applied rewards' discounts, at most the subtotal. */
  discount: number
  /** round_half_up((subtotal - discount) * taxRateBps / 10000). */
  tax: number
  /** subtotal - discount + tax. */
  total: number
  taxRateBps: number
  appliedRewards: AppliedReward[]
  payment: Payment
  /** Group orders only: one per member, in first-line order. */
  memberBreakdowns: MemberBreakdown[]
  note: string
  /** The barista holding the order; empty when unclaimed. */
  baristaId: string
  claimedAt: Date | undefined
  cancelReason: string
  cancelCode: CancelCode | undefined
  cancelledBy: Actor | undefined
  /** The idempotency key it was placed with (unique per customer). */
  requestId: string
  /** 1 at placement, one more with every change. */
  version: number
  entered: EnteredAt
  updatedAt: Date
}

/** A drink on the menu, priced in minor units of `currency`. */
export interface MenuItem {
  id: string
  name: string
  description: string
  category: string
  currency: string
  basePrice: number
  /** Sizes offered, smallest first; empty: one size. */
  sizes: { size: DrinkCustomization['size']; priceDelta: number; volumeMl: number }[]
  allowed: {
    milks: { milk: DrinkCustomization['milk']; surcharge: number }[]
    syrups: { name: string; displayName: string; surcharge: number }[]
    maxExtraShots: number
    extraShotPrice: number
    temperatures: DrinkCustomization['temperature'][]
    sweetnessAdjustable: boolean
    maxSyrups: number
  }
  /** The recipe: what a line gets for every customization field it leaves unspecified. */
  recipe: DrinkCustomization
  available: boolean
  sortOrder: number
  tags: string[]
  createdAt: Date | undefined
  updatedAt: Date | undefined
}
