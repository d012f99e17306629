import { createHash } from 'node:crypto'
import type { DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import type { Cart } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import type { AppliedReward, LineSource, MemberBreakdown, MenuItem, Order, OrderLine } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { invalid, precondition, unavailable, Violations } from '@brewmesh/runtime/errors'
import { Kind, Payment, Source, Status } from './codes.ts'
import { isUuid, nameUuid } from './ids.ts'
import { allocate, minor, money, taxOf } from './money.ts'
import type { CallBudget, CustomerInfo, OrderDeps } from './ports.ts'
import { resolveCustomization, unitPrice } from './pricing.ts'

export type LineItem = { kind: 'drink'; menuItemId: string; customization: DrinkCustomization | undefined } | { kind: 'usual' } | undefined

export interface LineInput {
  quantity: number
  /** The member the drink is for; empty: the payer. */
  memberCustomerId: string
  item: LineItem
}

export interface PlaceInput {
  kind: 'single' | 'group'
  requestId: string
  customerId: string
  lines: LineInput[]
  rewardIds: string[]
  note: string
}

export const MAX_LINES = { single: 20, group: 50 } as const

function validate(input: PlaceInput, v: Violations): void {
  const key = input.kind === 'group' ? 'header.' : ''
  v.check(input.requestId.length > 0 && input.requestId.length <= 128, `${key}request_id`, 'is required, at most 128 characters')
  v.check(isUuid(input.customerId), `${key}customer_id`, 'must be a UUID')
  v.check(input.lines.length >= 1 && input.lines.length <= MAX_LINES[input.kind], 'lines', `1 to ${MAX_LINES[input.kind]} lines`)
  v.check(input.rewardIds.length <= 5, `${key}reward_ids`, 'at most 5')
  input.rewardIds.forEach((id, i) => v.check(isUuid(id), `${key}reward_ids[${i}]`, 'must be a UUID'))
  v.check(new Set(input.rewardIds).size === input.rewardIds.length, `${key}reward_ids`, 'must not repeat')
  v.check([...input.note].length <= 200, `${key}note`, 'at most 200 characters')
  input.lines.forEach((line, i) => {
    const at = `lines[${i}]`
    v.check(Number.isInteger(line.quantity) && line.quantity >= 1 && line.quantity <= 20, `${at}.quantity`, 'must be 1 to 20')
    if (line.memberCustomerId) v.check(isUuid(line.memberCustomerId), `${at}.member_customer_id`, 'must be a UUID')
    if (input.kind === 'group') v.check(line.memberCustomerId !== '', `${at}.member_customer_id`, 'is required on group orders')
    if (!line.item) v.add(`${at}.item`, 'choose a drink or the usual')
    else if (line.item.kind === 'drink') v.check(isUuid(line.item.menuItemId), `${at}.drink.menu_item_id`, 'must be a UUID')
  })
}

const hashOf = (input: PlaceInput) =>
  createHash('sha256')
    .update(JSON.stringify({ ...input, customerId: input.customerId.toLowerCase() }))
    .digest('hex')

/** The members of an order: the payer, and for a group order each member (same household). */
async function membersOf(deps: OrderDeps, input: PlaceInput, payer: CustomerInfo, budget: CallBudget): Promise<Map<string, CustomerInfo>> {
  const members = new Map([[payer.id, payer]])
  const v = new Violations()
  for (const [i, line] of input.lines.entries()) {
    const id = (line.memberCustomerId || payer.id).toLowerCase()
    if (members.has(id)) continue
    if (input.kind === 'single') {
      v.add(`lines[${i}].member_customer_id`, 'a single order is for its customer only; use PlaceGroupOrder for a household')
      continue
    }
    const member = await deps.customers.get(id, budget)
    if (!member) throw precondition(`member ${id} (lines[${i}]) does not exist`)
    if (!payer.householdId || member.householdId !== payer.householdId) throw precondition(`member ${id} is not in the payer's household`)
    members.set(id, member)
  }
  v.throwIfAny()
  return members
}

interface ResolvedLine {
  menuItemId: string
  customization: DrinkCustomization | undefined
  source: LineSource
  favoriteId: string
}

async function resolveLines(deps: OrderDeps, input: PlaceInput, payerId: string, budget: CallBudget): Promise<ResolvedLine[]> {
  const resolved: ResolvedLine[] = []
  for (const [i, line] of input.lines.entries()) {
    const member = (line.memberCustomerId || payerId).toLowerCase()
    if (line.item?.kind === 'usual') {
      const usual = await deps.favorites.usual(member, budget)
      if (!usual) throw precondition(`customer ${member} has no usual yet (lines[${i}]): pin a favorite or order the drink`)
      resolved.push({
        menuItemId: usual.menuItemId,
        customization: usual.customization,
        source: Source.USUAL,
        favoriteId: usual.favoriteId,
      })
    } else if (line.item?.kind === 'drink') {
      resolved.push({
        menuItemId: line.item.menuItemId.toLowerCase(),
        customization: line.item.customization,
        source: Source.MENU,
        favoriteId: '',
      })
    }
  }
  return resolved
}

async function priceLines(
  deps: OrderDeps,
  input: PlaceInput,
  orderId: string,
  resolved: ResolvedLine[],
  members: Map<string, CustomerInfo>,
  payerId: string,
): Promise<OrderLine[]> {
  const v = new Violations()
  const items = new Map<string, MenuItem | undefined>()
  for (const r of resolved) if (!items.has(r.menuItemId)) items.set(r.menuItemId, await deps.store.menuItem(r.menuItemId))
  const lines = resolved.map((r, i): OrderLine | undefined => {
    const at = r.source === Source.USUAL ? `lines[${i}].usual` : `lines[${i}].drink`
    const item = items.get(r.menuItemId)
    if (!item) {
      if (r.source === Source.USUAL) throw precondition(`the usual of lines[${i}] is no longer on the menu`)
      v.add(`${at}.menu_item_id`, 'is not on the menu')
      return undefined
    }
    if (!item.available) throw precondition(`${item.name} (lines[${i}]) is not available right now`)
    const customization = resolveCustomization(item, r.customization, v, `${at}.customization`)
    const quantity = input.lines[i]!.quantity
    const unit = unitPrice(item, customization)
    const member = members.get((input.lines[i]!.memberCustomerId || payerId).toLowerCase())
    return {
      id: nameUuid(orderId, 'line', String(i)),
      menuItemId: item.id,
      menuItemName: item.name,
      category: item.category,
      customization,
      quantity,
      unitPrice: money(unit, deps.currency),
      lineTotal: money(unit * quantity, deps.currency),
      memberCustomerId: member?.id ?? payerId,
      memberDisplayName: member?.displayName ?? '',
      source: r.source,
      favoriteId: r.favoriteId,
    }
  })
  v.throwIfAny()
  return lines.filter((l): l is OrderLine => l !== undefined)
}

const cartOf = (lines: OrderLine[], currency: string): Cart => ({
  items: lines.map((l) => ({
    lineId: l.id,
    menuItemId: l.menuItemId,
    name: l.menuItemName,
    category: l.category,
    customization: l.customization,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    lineTotal: l.lineTotal,
  })),
  subtotal: money(
    lines.reduce((s, l) => s + minor(l.lineTotal), 0),
    currency,
  ),
  chosenRewardIds: [],
})

/** Per-member totals that sum exactly to the order's: a discount goes to the member whose line it covers, else in proportion. */
export function breakdowns(
  lines: OrderLine[],
  rewards: AppliedReward[],
  taxRateBps: number,
  payerId: string,
  currency: string,
): MemberBreakdown[] {
  const members = [...new Set(lines.map((l) => l.memberCustomerId))]
  const subtotals = members.map((m) => lines.filter((l) => l.memberCustomerId === m).reduce((s, l) => s + minor(l.lineTotal), 0))
  const discounts = members.map(() => 0)
  const payerIndex = Math.max(0, members.indexOf(payerId))
  for (const r of rewards) {
    const owner = r.lineIds.length > 0 ? lines.find((l) => l.id === r.lineIds[0])?.memberCustomerId : undefined
    const shares = owner ? members.map((m) => (m === owner ? minor(r.discount) : 0)) : allocate(minor(r.discount), subtotals, payerIndex)
    shares.forEach((s, i) => (discounts[i]! += s))
  }
  const subtotal = subtotals.reduce((a, b) => a + b, 0)
  const discount = Math.min(
    discounts.reduce((a, b) => a + b, 0),
    subtotal,
  )
  const taxes = allocate(
    taxOf(subtotal - discount, taxRateBps),
    subtotals.map((s, i) => s - discounts[i]!),
    payerIndex,
  )
  return members.map((m, i) => ({
    memberCustomerId: m,
    displayName: lines.find((l) => l.memberCustomerId === m)?.memberDisplayName ?? '',
    lineIds: lines.filter((l) => l.memberCustomerId === m).map((l) => l.id),
    itemCount: lines.filter((l) => l.memberCustomerId === m).reduce((s, l) => s + l.quantity, 0),
    subtotal: money(subtotals[i]!, currency),
    discount: money(discounts[i]!, currency),
    tax: money(taxes[i]!, currency),
    total: money(subtotals[i]! - discounts[i]! + taxes[i]!, currency),
  }))
}

/**
 * PlaceOrder and PlaceGroupOrder. The customer must exist and be active; "my usual" lines come from
 * the Favorites service; rewards are reserved by the Loyalty service against the order's id, which
 * (like its line ids and redemption keys) derives from the idempotency key, so a retry reserves
 * nothing twice. The order and its OrderPlaced event commit together; payment runs afterwards.
 */
export async function placeOrder(deps: OrderDeps, input: PlaceInput, budget: CallBudget): Promise<Order> {
  const v = new Violations()
  validate(input, v)
  v.throwIfAny()
  const hash = hashOf(input)
  const earlier = await deps.store.byRequestId(input.requestId)
  if (earlier) {
    if (earlier.requestHash !== hash)
      throw invalid([
        { field: input.kind === 'group' ? 'header.request_id' : 'request_id', description: 'was already used for a different order' },
      ])
    return earlier.order
  }
  // The payer and the usual drinks are looked up at once: neither waits for the other.
  const [payerLookup, linesLookup] = await Promise.allSettled([
    deps.customers.get(input.customerId.toLowerCase(), budget),
    resolveLines(deps, input, input.customerId.toLowerCase(), budget),
  ])
  const payer = settled(payerLookup)
  if (!payer) throw precondition(`customer ${input.customerId} does not exist`)
  if (!payer.active) throw precondition(`customer ${payer.id} is not active`)
  if (input.kind === 'group' && !payer.householdId) throw precondition(`customer ${payer.id} has no household to order for`)
  const members = await membersOf(deps, input, payer, budget)
  const orderId = nameUuid('order', input.requestId)
  const lines = await priceLines(deps, input, orderId, settled(linesLookup), members, payer.id)

  const cart = cartOf(lines, deps.currency)
  const rewards: AppliedReward[] = []
  try {
    for (const rewardId of input.rewardIds) {
      rewards.push(
        await deps.loyalty.redeem(
          { requestId: nameUuid('redeem', input.requestId, rewardId), customerId: payer.id, rewardId, orderId, cart },
          budget,
        ),
      )
    }
    return await store(deps, budget, input, hash, payer, orderId, lines, cart, rewards)
  } catch (err) {
    if (input.rewardIds.length > 0) await releaseUnplaced(deps, payer.id, orderId)
    throw err
  }
}

const settled = <T>(result: PromiseSettledResult<T>): T => {
  if (result.status === 'rejected') throw result.reason
  return result.value
}

/**
 * A placement that failed after reserving rewards gives them back at once. Unless the order was
 * stored after all (a concurrent retry with the same key won): then its reservations are its own.
 * A release that fails is logged by the adapter; the Loyalty service's hold job releases later.
 */
async function releaseUnplaced(deps: OrderDeps, customerId: string, orderId: string): Promise<void> {
  if (await deps.store.order(orderId).catch(() => undefined)) return
  await deps.loyalty
    .release({ customerId, orderId, reason: 'order not placed' }, { deadline: new Date(deps.clock().getTime() + 1000) })
    .catch(() => 0)
}

/** Prices the order, stores it with its OrderPlaced event, and queues its payment. */
async function store(
  deps: OrderDeps,
  budget: CallBudget,
  input: PlaceInput,
  hash: string,
  payer: CustomerInfo,
  orderId: string,
  lines: OrderLine[],
  cart: Cart,
  rewards: AppliedReward[],
): Promise<Order> {
  const subtotal = minor(cart.subtotal)
  const discount = Math.min(
    rewards.reduce((s, r) => s + minor(r.discount), 0),
    subtotal,
  )
  const tax = taxOf(subtotal - discount, deps.taxRateBps)
  const total = subtotal - discount + tax
  const now = deps.clock()
  // Nobody waits for an answer any more: store nothing (the caller retries with the same key).
  if (budget.deadline && now.getTime() >= budget.deadline.getTime()) {
    throw unavailable(`the caller's deadline passed before order ${orderId} was stored; retry with the same request_id`)
  }
  const order: Order = {
    id: orderId,
    customerId: payer.id,
    householdId: payer.householdId,
    customerDisplayName: payer.displayName,
    kind: input.kind === 'group' ? Kind.GROUP : Kind.SINGLE,
    status: Status.PLACED,
    lines,
    subtotal: money(subtotal, deps.currency),
    discount: money(discount, deps.currency),
    tax: money(tax, deps.currency),
    total: money(total, deps.currency),
    taxRateBps: deps.taxRateBps,
    appliedRewards: rewards,
    payment: {
      status: Payment.PENDING,
      amount: money(total, deps.currency),
      processorReference: '',
      declineReason: '',
    },
    memberBreakdowns: input.kind === 'group' ? breakdowns(lines, rewards, deps.taxRateBps, payer.id, deps.currency) : [],
    note: input.note,
    baristaId: '',
    cancelReason: '',
    cancelReasonCode: 0,
    requestId: input.requestId,
    version: 1,
    placedAt: now,
    updatedAt: now,
  }
  const stored = await deps.store.transaction(async (tx) => {
    const existing = await tx.insert(order, hash)
    if (existing) return existing
    await tx.record({ kind: 'placed', order })
    return undefined
  })
  // A concurrent retry with the same key won the insert: the same order (or a different request).
  if (stored) {
    if (stored.requestHash !== hash) throw invalid([{ field: 'request_id', description: 'was already used for a different order' }])
    return stored.order
  }
  await deps.payments.schedule(order.id).catch(() => undefined) // the pending-payment sweep schedules it later
  return order
}
