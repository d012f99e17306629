import { ActorKind, type Actor as ActorMessage } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import { DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import type { Money } from '@brewmesh/gen/brewmesh/common/v1/money.ts'
import {
  CancelReasonCode,
  LineSource as LineSourceMessage,
  OrderKind as OrderKindMessage,
  OrderStatus as OrderStatusMessage,
  PaymentStatus as PaymentStatusMessage,
  type MenuItem as MenuItemMessage,
  type Order as OrderMessage,
  type OrderLine as OrderLineMessage,
} from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import type { OrderLineInput } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import type {
  Actor,
  ActorKind as DomainActorKind,
  CancelCode,
  LineSource,
  MenuItem,
  Order,
  OrderKind,
  OrderLine,
  OrderStatus,
  PaymentStatus,
} from '../domain/order.ts'
import type { LineInput } from '../domain/place-order.ts'

/** Between domain objects and generated protobuf messages, used by gRPC handlers and events. */

/** Each domain value and the contract's enum value for it; `from` is its inverse (unknown values: undefined). */
function enumMap<D extends string, P extends number>(to: Record<D, P>) {
  const from = new Map<number, D>(Object.entries(to).map(([d, p]) => [p as number, d as D]))
  return { to: (d: D): P => to[d], from: (p: number): D | undefined => from.get(p) }
}

export const orderStatus = enumMap<OrderStatus, OrderStatusMessage>({
  placed: OrderStatusMessage.ORDER_STATUS_PLACED,
  paid: OrderStatusMessage.ORDER_STATUS_PAID,
  preparing: OrderStatusMessage.ORDER_STATUS_PREPARING,
  ready: OrderStatusMessage.ORDER_STATUS_READY,
  completed: OrderStatusMessage.ORDER_STATUS_COMPLETED,
  cancelled: OrderStatusMessage.ORDER_STATUS_CANCELLED,
})
export const paymentStatus = enumMap<PaymentStatus, PaymentStatusMessage>({
  pending: PaymentStatusMessage.PAYMENT_STATUS_PENDING,
  approved: PaymentStatusMessage.PAYMENT_STATUS_APPROVED,
  declined: PaymentStatusMessage.PAYMENT_STATUS_DECLINED,
  refunded: PaymentStatusMessage.PAYMENT_STATUS_REFUNDED,
  voided: PaymentStatusMessage.PAYMENT_STATUS_VOIDED,
})
const orderKind = enumMap<OrderKind, OrderKindMessage>({
  single: OrderKindMessage.ORDER_KIND_SINGLE,
  group: OrderKindMessage.ORDER_KIND_GROUP,
})
const lineSource = enumMap<LineSource, LineSourceMessage>({
  menu: LineSourceMessage.LINE_SOURCE_MENU,
  usual: LineSourceMessage.LINE_SOURCE_USUAL,
})
const cancelCode = enumMap<CancelCode, CancelReasonCode>({
  customer_request: CancelReasonCode.CANCEL_REASON_CODE_CUSTOMER_REQUEST,
  staff_request: CancelReasonCode.CANCEL_REASON_CODE_STAFF_REQUEST,
  payment_declined: CancelReasonCode.CANCEL_REASON_CODE_PAYMENT_DECLINED,
})
const actorKind = enumMap<DomainActorKind, ActorKind>({
  customer: ActorKind.ACTOR_KIND_CUSTOMER,
  staff: ActorKind.ACTOR_KIND_STAFF,
  service: ActorKind.ACTOR_KIND_SERVICE,
  system: ActorKind.ACTOR_KIND_SYSTEM,
})

/** Money on the wire: int64 minor units as a decimal string. */
export const money = (amountMinor: number, currencyCode: string): Money => ({ amountMinor: String(amountMinor), currencyCode })
const minor = (m: Money | undefined): number => Number(m?.amountMinor ?? 0)

export const actorToProto = (a: Actor): ActorMessage => ({ kind: actorKind.to(a.kind), id: a.id, displayName: a.displayName })
export const actorFromProto = (a: ActorMessage): Actor => ({
  kind: actorKind.from(a.kind) ?? 'system',
  id: a.id,
  displayName: a.displayName,
})

function lineToProto(l: OrderLine, currency: string): OrderLineMessage {
  return {
    id: l.id,
    menuItemId: l.menuItemId,
    menuItemName: l.menuItemName,
    category: l.category,
    customization: l.customization,
    quantity: l.quantity,
    unitPrice: money(l.unitPrice, currency),
    lineTotal: money(l.lineTotal, currency),
    memberCustomerId: l.memberCustomerId,
    memberDisplayName: l.memberDisplayName,
    source: lineSource.to(l.source),
    favoriteId: l.favoriteId,
  }
}

export function orderToProto(o: Order): OrderMessage {
  const c = o.currency
  return {
    id: o.id,
    customerId: o.customerId,
    householdId: o.householdId,
    customerDisplayName: o.customerDisplayName,
    kind: orderKind.to(o.kind),
    status: orderStatus.to(o.status),
    lines: o.lines.map((l) => lineToProto(l, c)),
    subtotal: money(o.subtotal, c),
    discount: money(o.discount, c),
    tax: money(o.tax, c),
    total: money(o.total, c),
    taxRateBps: o.taxRateBps,
    appliedRewards: o.appliedRewards.map((r) => ({ ...r, lineIds: [...r.lineIds], discount: money(r.discount, c) })),
    payment: {
      status: paymentStatus.to(o.payment.status),
      amount: money(o.payment.amount, c),
      processorReference: o.payment.processorReference,
      declineReason: o.payment.declineReason,
      refundedAmount: o.payment.refundedAmount === undefined ? undefined : money(o.payment.refundedAmount, c),
      processedAt: o.payment.processedAt,
      refundedAt: o.payment.refundedAt,
    },
    memberBreakdowns: o.memberBreakdowns.map((b) => ({
      memberCustomerId: b.memberCustomerId,
      displayName: b.displayName,
      lineIds: [...b.lineIds],
      itemCount: b.itemCount,
      subtotal: money(b.subtotal, c),
      discount: money(b.discount, c),
      tax: money(b.tax, c),
      total: money(b.total, c),
    })),
    note: o.note,
    baristaId: o.baristaId,
    claimedAt: o.claimedAt,
    cancelReason: o.cancelReason,
    cancelReasonCode: o.cancelCode ? cancelCode.to(o.cancelCode) : CancelReasonCode.CANCEL_REASON_CODE_UNSPECIFIED,
    cancelledBy: o.cancelledBy && actorToProto(o.cancelledBy),
    requestId: o.requestId,
    version: o.version,
    placedAt: o.entered.placed,
    paidAt: o.entered.paid,
    preparingAt: o.entered.preparing,
    readyAt: o.entered.ready,
    completedAt: o.entered.completed,
    cancelledAt: o.entered.cancelled,
    updatedAt: o.updatedAt,
  }
}

/**
 * An order as an event carries it (the feed of this replica's streams). Only ever orders this
 * service wrote, so a value outside the contract's enums cannot occur; it reads as the closest
 * neutral value rather than failing the feed.
 */
export function orderFromProto(o: OrderMessage): Order {
  const currency = o.total?.currencyCode ?? o.subtotal?.currencyCode ?? ''
  const p = o.payment
  return {
    id: o.id,
    customerId: o.customerId,
    householdId: o.householdId,
    customerDisplayName: o.customerDisplayName,
    kind: orderKind.from(o.kind) ?? 'single',
    status: orderStatus.from(o.status) ?? 'placed',
    currency,
    lines: o.lines.map((l) => ({
      id: l.id,
      menuItemId: l.menuItemId,
      menuItemName: l.menuItemName,
      category: l.category,
      customization: l.customization ?? DrinkCustomization.fromPartial({}),
      quantity: l.quantity,
      unitPrice: minor(l.unitPrice),
      lineTotal: minor(l.lineTotal),
      memberCustomerId: l.memberCustomerId,
      memberDisplayName: l.memberDisplayName,
      source: lineSource.from(l.source) ?? 'menu',
      favoriteId: l.favoriteId,
    })),
    subtotal: minor(o.subtotal),
    discount: minor(o.discount),
    tax: minor(o.tax),
    total: minor(o.total),
    taxRateBps: o.taxRateBps,
    appliedRewards: o.appliedRewards.map((r) => ({ ...r, discount: minor(r.discount) })),
    payment: {
      status: (p && paymentStatus.from(p.status)) ?? 'pending',
      amount: minor(p?.amount),
      processorReference: p?.processorReference ?? '',
      declineReason: p?.declineReason ?? '',
      refundedAmount: p?.refundedAmount && minor(p.refundedAmount),
      processedAt: p?.processedAt,
      refundedAt: p?.refundedAt,
    },
    memberBreakdowns: o.memberBreakdowns.map((b) => ({
      memberCustomerId: b.memberCustomerId,
      displayName: b.displayName,
      lineIds: b.lineIds,
      itemCount: b.itemCount,
      subtotal: minor(b.subtotal),
      discount: minor(b.discount),
      tax: minor(b.tax),
      total: minor(b.total),
    })),
    note: o.note,
    baristaId: o.baristaId,
    claimedAt: o.claimedAt,
    cancelReason: o.cancelReason,
    cancelCode: cancelCode.from(o.cancelReasonCode),
    cancelledBy: o.cancelledBy && actorFromProto(o.cancelledBy),
    requestId: o.requestId,
    version: o.version,
    entered: {
      placed: o.placedAt ?? new Date(0),
      paid: o.paidAt,
      preparing: o.preparingAt,
      ready: o.readyAt,
      completed: o.completedAt,
      cancelled: o.cancelledAt,
    },
    updatedAt: o.updatedAt ?? new Date(0),
  }
}

/** The menu item a stored catalog document describes (the catalog is kept in the contract's JSON). */
export function menuItemFromProto(m: MenuItemMessage): MenuItem {
  const a = m.allowed
  return {
    id: m.id,
    name: m.name,
    description: m.description,
    category: m.category,
    currency: m.basePrice?.currencyCode ?? '',
    basePrice: minor(m.basePrice),
    sizes: m.sizes.map((s) => ({ size: s.size, priceDelta: minor(s.priceDelta), volumeMl: s.volumeMl })),
    allowed: {
      milks: (a?.milks ?? []).map((o) => ({ milk: o.milk, surcharge: minor(o.surcharge) })),
      syrups: (a?.syrups ?? []).map((o) => ({ name: o.name, displayName: o.displayName, surcharge: minor(o.surcharge) })),
      maxExtraShots: a?.maxExtraShots ?? 0,
      extraShotPrice: minor(a?.extraShotPrice),
      temperatures: a?.temperatures ?? [],
      sweetnessAdjustable: a?.sweetnessAdjustable ?? false,
      maxSyrups: a?.maxSyrups ?? 0,
    },
    recipe: m.defaultCustomization ?? DrinkCustomization.fromPartial({}),
    available: m.available,
    sortOrder: m.sortOrder,
    tags: m.tags,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  }
}

export function menuItemToProto(m: MenuItem): MenuItemMessage {
  const c = m.currency
  return {
    id: m.id,
    name: m.name,
    description: m.description,
    category: m.category,
    basePrice: money(m.basePrice, c),
    sizes: m.sizes.map((s) => ({ size: s.size, priceDelta: money(s.priceDelta, c), volumeMl: s.volumeMl })),
    allowed: {
      milks: m.allowed.milks.map((o) => ({ milk: o.milk, surcharge: money(o.surcharge, c) })),
      syrups: m.allowed.syrups.map((o) => ({ name: o.name, displayName: o.displayName, surcharge: money(o.surcharge, c) })),
      maxExtraShots: m.allowed.maxExtraShots,
      extraShotPrice: money(m.allowed.extraShotPrice, c),
      temperatures: [...m.allowed.temperatures],
      sweetnessAdjustable: m.allowed.sweetnessAdjustable,
      maxSyrups: m.allowed.maxSyrups,
    },
    defaultCustomization: m.recipe,
    available: m.available,
    sortOrder: m.sortOrder,
    tags: [...m.tags],
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  }
}

/** An OrderLineInput as the domain reads it. */
export function lineInputFromProto(l: OrderLineInput): LineInput {
  const item = l.item
  return {
    quantity: l.quantity,
    memberCustomerId: l.memberCustomerId,
    item:
      item?.$case === 'drink'
        ? { kind: 'drink', menuItemId: item.value.menuItemId, customization: item.value.customization }
        : item?.$case === 'usual'
          ? { kind: 'usual' }
          : undefined,
  }
}
