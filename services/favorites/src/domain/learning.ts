import { Edit } from './edit.ts'
import { ACTOR_KIND, drinkKey, type ChangeOrigin, type DrinkCustomization } from './favorite.ts'
import { commitEdit } from './operation.ts'
import type { FavoritesDeps } from './ports.ts'
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

export interface CompletedOrder {
  eventId: string
  orderId: string
  customerId: string
  lines: CompletedLine[]
  completedAt: Date
}

const system = (job: string): ChangeOrigin => ({ actor: { kind: ACTOR_KIND.system, id: job }, deviceId: '', clientChangeId: '' })

/**
 * Counts a completed order toward each member's learned usual: every drink once per order however
 * many cups, and the order once however often the event is delivered (its id is recorded in the
 * same transaction). Without a pin, a different most-completed drink publishes UsualChanged.
 */
export function learnFromCompletedOrder(deps: FavoritesDeps, order: CompletedOrder): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    if (!(await tx.markProcessed(ORDER_EVENTS_CONSUMER, order.eventId))) return false
    const byMember = new Map<string, Map<string, CompletedLine>>()
    for (const line of order.lines) {
      const member = (line.memberCustomerId || order.customerId).toLowerCase()
      const drinks = byMember.get(member) ?? new Map<string, CompletedLine>()
      drinks.set(drinkKey(line.menuItemId, line.customization), line)
      byMember.set(member, drinks)
    }
    const now = deps.clock()
    const window = usualWindow(now, deps.usualWindowDays)
    // Locks in id order, so two orders of the same members never wait on each other in a cycle.
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
    return true
  })
}

/** Removes a deleted customer's favorites (tombstones, one revision) and forgets their completed drinks, once. */
export function forgetDeletedCustomer(deps: FavoritesDeps, eventId: string, customerId: string): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    if (!(await tx.markProcessed(CUSTOMER_EVENTS_CONSUMER, eventId))) return false
    const id = customerId.toLowerCase()
    const state = await tx.lock(id)
    if (state.deletedAt) return false
    const origin = system('customer-deleted')
    const edit = new Edit(state, origin, deps.clock(), deps.newId)
    for (const f of state.live) edit.remove(f.id, 'customer deleted')
    await commitEdit(deps, tx, state, edit, origin, undefined)
    await tx.forgetCustomer(id, deps.clock())
    return true
  })
}
