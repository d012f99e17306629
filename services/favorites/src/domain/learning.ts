import type { Traced } from '@brewmesh/runtime/kafka'
import { Edit } from './edit.ts'
import { ACTOR_KIND, drinkKey, type ChangeOrigin, type DrinkCustomization } from './favorite.ts'
import { commitEdit } from './operation.ts'
import type { FavoritesDeps, FavoritesTx } from './ports.ts'
import { usualChange, usualOf, usualWindow } from './usual.ts'

/** The consumer names processed event ids are recorded under. */
export const ORDER_EVENTS_CONSUMER = 'favorites-order-events'
export const CUSTOMER_EVENTS_CONSUMER = 'favorites-customer-events'

export interface CompletedLine {
  /** The member the drink was for (group orders); the payer when empty. */
  memberCustomerId: string
  menuItemId: string
  displayName: string
  customization: DrinkCustomization
}

export interface CustomerDeleted {
  eventId: string
  customerId: string
}

export interface CompletedOrder {
  eventId: string
  orderId: string
  customerId: string
  lines: CompletedLine[]
  completedAt: Date
}

const system = (job: string): ChangeOrigin => ({ actor: { kind: ACTOR_KIND.system, id: job }, deviceId: '', clientChangeId: '' })

/** The member each line's drink was for (the payer when a line names none), lower case. */
const memberOf = (order: CompletedOrder, line: CompletedLine) => (line.memberCustomerId || order.customerId).toLowerCase()

/**
 * Counts a chunk of completed orders toward each member's learned usual, in one transaction: every
 * drink once per order however many cups, and each order once however often its event is
 * delivered (the ids are recorded in the same transaction). The members the new orders touch are
 * locked first, in id order, so two chunks never wait on each other in a cycle; then each order
 * is counted in arrival order, in its own trace. Without a pin, a different most-completed drink
 * publishes UsualChanged. Returns how many orders were counted (the rest were seen before).
 */
export function learnFromCompletedOrders(deps: FavoritesDeps, orders: readonly Traced<CompletedOrder>[]): Promise<number> {
  return deps.store.transaction(async (tx) => {
    const fresh = await tx.claimEvents(ORDER_EVENTS_CONSUMER, orders, (o) => o.value.eventId)
    await tx.lockAll(fresh.flatMap(({ value: order }) => order.lines.map((line) => memberOf(order, line))))
    for (const { value: order, inTrace } of fresh) await inTrace(() => learnFrom(deps, tx, order))
    return fresh.length
  })
}

async function learnFrom(deps: FavoritesDeps, tx: FavoritesTx, order: CompletedOrder): Promise<void> {
  const byMember = new Map<string, Map<string, CompletedLine>>()
  for (const line of order.lines) {
    const member = memberOf(order, line)
    const drinks = byMember.get(member) ?? new Map<string, CompletedLine>()
    drinks.set(drinkKey(line.menuItemId, line.customization), line)
    byMember.set(member, drinks)
  }
  const now = deps.clock()
  const window = usualWindow(now, deps.usualWindowDays)
  for (const member of [...byMember.keys()].sort()) {
    const state = await tx.lock(member)
    if (state.deletedAt) continue
    const before = usualOf(state.live, await tx.learned(member, window.startAt), window)
    for (const line of byMember.get(member)?.values() ?? []) {
      await tx.recordCompletion({ ...line, customerId: member, orderId: order.orderId, completedAt: order.completedAt })
    }
    const after = usualOf(state.live, await tx.learned(member, window.startAt), window)
    const change = usualChange(before, after, new Set())
    if (change) {
      await tx.recordUsualChange({
        customerId: member,
        revision: state.revision,
        origin: system('order-completed'),
        changes: [],
        usualChange: change,
        at: now,
      })
    }
  }
}

/**
 * Removes deleted customers' favorites (tombstones, one revision each) and forgets their completed
 * drinks, each deletion once, a chunk of them in one transaction (customers locked in id order).
 * Returns how many were applied (the rest were seen before, or the customer was gone already).
 */
export function forgetDeletedCustomers(deps: FavoritesDeps, deletions: readonly Traced<CustomerDeleted>[]): Promise<number> {
  return deps.store.transaction(async (tx) => {
    const fresh = await tx.claimEvents(CUSTOMER_EVENTS_CONSUMER, deletions, (d) => d.value.eventId)
    await tx.lockAll(fresh.map((d) => d.value.customerId.toLowerCase()))
    let applied = 0
    for (const { value, inTrace } of fresh) if (await inTrace(() => forget(deps, tx, value.customerId.toLowerCase()))) applied += 1
    return applied
  })
}

async function forget(deps: FavoritesDeps, tx: FavoritesTx, id: string): Promise<boolean> {
  const state = await tx.lock(id)
  if (state.deletedAt) return false
  const origin = system('customer-deleted')
  const edit = new Edit(state, origin, deps.clock(), deps.newId)
  for (const f of state.live) edit.remove(f.id, 'customer deleted')
  await commitEdit(deps, tx, state, edit, origin, undefined)
  await tx.forgetCustomer(id, deps.clock())
  return true
}
