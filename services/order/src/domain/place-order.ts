import { createHash } from 'node:crypto'
import { invalid, precondition, unavailable, Violations, type AppError } from '@brewmesh/runtime/errors'
import { isUuid } from '@brewmesh/runtime/ids'
import { nameUuid } from './ids.ts'
import type { AppliedReward, DrinkCustomization, LineSource, MenuItem, Order, OrderLine } from './order.ts'
import type { CallBudget, Claimed, CustomerInfo, OrderDeps } from './ports.ts'
import { resolveCustomization, unitPrice } from './pricing.ts'
import { REASON } from './reasons.ts'
import { breakdowns, totals } from './totals.ts'

export type LineItem = { kind: 'drink'; menuItemId: string; customization: DrinkCustomization | undefined } | { kind: 'usual' } | undefined

export interface LineInput {
  /** 1 to 20; 0 (the contract's unset value) means 1. */
  quantity: number
  /** The member the drink is for; empty: the payer. */
  memberCustomerId: string
  item: LineItem
}

// The request hash is over this shape as the adapters build it (key order included): orders placed
// before keep matching their retries.
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

/** The request as the contract means it: an unset quantity (0) is 1, so 0 and 1 are the same request. */
const withDefaults = (input: PlaceInput): PlaceInput => ({
  ...input,
  lines: input.lines.map((l) => (l.quantity === 0 ? { ...l, quantity: 1 } : l)),
})

const hashOf = (input: PlaceInput) =>
  createHash('sha256')
    .update(JSON.stringify({ ...input, customerId: input.customerId.toLowerCase() }))
    .digest('hex')

/**
 * A customer as this service knows them, asked of the Customer service again when what it heard
 * would refuse the order: facts heard late may accept an order for a moment, never refuse one.
 */
async function customerFor(
  deps: OrderDeps,
  id: string,
  budget: CallBudget,
  accepts: (customer: CustomerInfo) => boolean,
): Promise<CustomerInfo | undefined> {
  const { customer, asked } = await deps.customers.known(id, budget)
  if (asked || (customer && accepts(customer))) return customer
  return deps.customers.current(id, budget)
}

/** Why this customer cannot pay for an order of this kind; undefined when they can. */
function payerRefusal(payer: CustomerInfo, kind: PlaceInput['kind']): AppError | undefined {
  if (!payer.active) return precondition(`customer ${payer.id} is not active`, REASON.customerInactive)
  if (kind === 'group' && !payer.householdId) return precondition(`customer ${payer.id} has no household to order for`, REASON.noHousehold)
  return undefined
}

/** The members of an order: the payer, and for a group order each member (same household). */
async function membersOf(deps: OrderDeps, input: PlaceInput, payer: CustomerInfo, budget: CallBudget): Promise<Map<string, CustomerInfo>> {
  const members = new Map([[payer.id, payer]])
  const inHousehold = (m: CustomerInfo) => payer.householdId !== '' && m.householdId === payer.householdId
  const v = new Violations()
  for (const [i, line] of input.lines.entries()) {
    const id = (line.memberCustomerId || payer.id).toLowerCase()
    if (members.has(id)) continue
    if (input.kind === 'single') {
      v.add(`lines[${i}].member_customer_id`, 'a single order is for its customer only; use PlaceGroupOrder for a household')
      continue
    }
    const member = await customerFor(deps, id, budget, inHousehold)
    if (!member) throw precondition(`member ${id} (lines[${i}]) does not exist`, REASON.memberNotFound)
    if (!inHousehold(member)) throw precondition(`member ${id} is not in the payer's household`, REASON.memberOutsideHousehold)
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
      if (!usual) throw precondition(`customer ${member} has no usual yet (lines[${i}]): pin a favorite or order the drink`, REASON.noUsual)
      resolved.push({ menuItemId: usual.menuItemId, customization: usual.customization, source: 'usual', favoriteId: usual.favoriteId })
    } else if (line.item?.kind === 'drink') {
      resolved.push({
        menuItemId: line.item.menuItemId.toLowerCase(),
        customization: line.item.customization,
        source: 'menu',
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
    const at = r.source === 'usual' ? `lines[${i}].usual` : `lines[${i}].drink`
    const item = items.get(r.menuItemId)
    if (!item) {
      if (r.source === 'usual') throw precondition(`the usual of lines[${i}] is no longer on the menu`, REASON.usualNotOnMenu)
      v.add(`${at}.menu_item_id`, 'is not on the menu')
      return undefined
    }
    if (!item.available) throw precondition(`${item.name} (lines[${i}]) is not available right now`, REASON.itemUnavailable)
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
      unitPrice: unit,
      lineTotal: unit * quantity,
      memberCustomerId: member?.id ?? payerId,
      memberDisplayName: member?.displayName ?? '',
      source: r.source,
      favoriteId: r.favoriteId,
    }
  })
  v.throwIfAny()
  return lines.filter((l): l is OrderLine => l !== undefined)
}

/**
 * PlaceOrder and PlaceGroupOrder. The customer must exist and be active (as this service heard from
 * the customer events; an order is refused only on the Customer service's answer of now); "my
 * usual" lines come from the Favorites service; rewards are reserved by the Loyalty service against
 * the order's id, which (like its line ids and redemption keys) derives from the idempotency key,
 * so a retry reserves nothing twice. The order and its OrderPlaced event commit together; payment
 * runs afterwards.
 */
export async function placeOrder(deps: OrderDeps, request: PlaceInput, budget: CallBudget): Promise<Order> {
  const input = withDefaults(request)
  const v = new Violations()
  validate(input, v)
  v.throwIfAny()
  const hash = hashOf(input)
  const customerId = input.customerId.toLowerCase()
  const requestField = input.kind === 'group' ? 'header.request_id' : 'request_id'
  const earlier = await deps.store.byRequestId(customerId, input.requestId)
  if (earlier) {
    if (earlier.requestHash !== hash) throw invalid([{ field: requestField, description: 'was already used for a different order' }])
    return earlier.order
  }
  // The payer and the usual drinks are looked up at once: neither waits for the other.
  const [payerLookup, linesLookup] = await Promise.allSettled([
    customerFor(deps, customerId, budget, (c) => !payerRefusal(c, input.kind)),
    resolveLines(deps, input, customerId, budget),
  ])
  const payer = settled(payerLookup)
  if (!payer) throw precondition(`customer ${customerId} does not exist`, REASON.customerNotFound)
  const refusal = payerRefusal(payer, input.kind)
  if (refusal) throw refusal
  const members = await membersOf(deps, input, payer, budget)
  // Keys are the customer's own: another customer's identical key is another order. (Orders placed
  // before keys were scoped keep their ids; their retries find them by customer and key above.)
  const orderId = nameUuid('order', customerId, input.requestId)
  const lines = await priceLines(deps, input, orderId, settled(linesLookup), members, payer.id)

  const rewards: AppliedReward[] = []
  const held: Claimed[] = []
  try {
    for (const rewardId of input.rewardIds) {
      const { reward, claim } = await deps.loyalty.redeem(
        {
          requestId: nameUuid('redeem', customerId, input.requestId, rewardId),
          customerId: payer.id,
          rewardId,
          orderId,
          cart: { lines, currency: deps.currency },
        },
        budget,
      )
      rewards.push(reward)
      held.push({ redemptionId: reward.redemptionId, claim })
    }
    return await store(deps, budget, input, hash, payer, orderId, lines, rewards, requestField)
  } catch (err) {
    if (held.length > 0) await releaseUnplaced(deps, payer.id, orderId, held)
    throw err
  }
}

const settled = <T>(result: PromiseSettledResult<T>): T => {
  if (result.status === 'rejected') throw result.reason
  return result.value
}

/**
 * A placement that failed after reserving rewards gives back at once what it was answered, each at
 * the claim it saw. Unless the order was stored after all (a concurrent retry with the same key
 * won): then its reservations are its own. A retry of the same placement that got one back in the
 * meantime (it may be storing the order with it right now) has claimed it again, and the Loyalty
 * service leaves it to that retry. A reservation whose answer never came (the call timed out) is
 * not named: a retry gets it back, or the Loyalty service's hold job releases it once this service
 * says the order does not exist. A release that fails is logged by the adapter; the hold job
 * releases later.
 */
async function releaseUnplaced(deps: OrderDeps, customerId: string, orderId: string, held: Claimed[]): Promise<void> {
  if (await deps.store.order(orderId).catch(() => undefined)) return
  await deps.loyalty
    .release({ customerId, orderId, reason: 'order not placed', only: held }, { deadline: new Date(deps.clock().getTime() + 1000) })
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
  rewards: AppliedReward[],
  requestField: string,
): Promise<Order> {
  const sums = totals(lines, rewards, deps.taxRateBps)
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
    kind: input.kind,
    status: 'placed',
    currency: deps.currency,
    lines,
    ...sums,
    taxRateBps: deps.taxRateBps,
    appliedRewards: rewards,
    payment: {
      status: 'pending',
      amount: sums.total,
      processorReference: '',
      declineReason: '',
      refundedAmount: undefined,
      processedAt: undefined,
      refundedAt: undefined,
    },
    memberBreakdowns: input.kind === 'group' ? breakdowns(lines, rewards, deps.taxRateBps, payer.id) : [],
    note: input.note,
    baristaId: '',
    claimedAt: undefined,
    cancelReason: '',
    cancelCode: undefined,
    cancelledBy: undefined,
    requestId: input.requestId,
    version: 1,
    entered: { placed: now },
    updatedAt: now,
  }
  const stored = await deps.store.place(order, hash, { kind: 'placed', order, at: now })
  // A concurrent retry with the same key won the insert: the same order (or a different request).
  if (stored) {
    if (stored.requestHash !== hash) throw invalid([{ field: requestField, description: 'was already used for a different order' }])
    return stored.order
  }
  return order // its payment is answered once it is due (processDuePayments)
}
