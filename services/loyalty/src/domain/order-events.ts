import type { Traced } from '@brewmesh/runtime/kafka'
import { ensureAccount } from './accounts.ts'
import { headroom, post, withCrossings } from './ledger.ts'
import { SYSTEM, type Money } from './model.ts'
import type { Crossing, LoyaltyDeps, LoyaltyTx } from './ports.ts'
import { confirmReserved, releaseReserved } from './redemptions.ts'
import { multiplierPercent, pointsForAmount, tierFor } from './rules.ts'

export const ORDER_CONSUMER = 'loyalty-order-events'
const ACTOR = SYSTEM('order-events')

/** What loyalty needs from an order event (events/loyalty-inbox.consumer.ts decodes it). */
export type OrderFact =
  | { kind: 'completed'; eventId: string; orderId: string; customerId: string; total: Money }
  | { kind: 'cancelled'; eventId: string; orderId: string; customerId: string; reason: string }
  | { kind: 'placed'; eventId: string; orderId: string; customerId: string }

/**
 * Applies a chunk of order events in one transaction, each event once (the ids are recorded in
 * it), in arrival order, each in its own trace (an account a customer's first event opens, its
 * PointsEarned, continue that event's trace). The accounts they touch are locked first, in id
 * order, so two chunks applied at the same time never wait on each other in a cycle.
 */
export async function applyOrderFacts(deps: LoyaltyDeps, events: readonly Traced<OrderFact>[]): Promise<void> {
  if (events.length === 0) return
  await withCrossings(deps, (crossings) =>
    deps.store.transaction(async (tx) => {
      const fresh = await tx.claimEvents(ORDER_CONSUMER, events, (e) => e.value.eventId)
      await tx.lockAccounts(fresh.map((e) => e.value.customerId))
      for (const event of fresh) await event.inTrace(() => applyOrderFact(deps, tx, event.value, crossings))
    }),
  )
}

/**
 * Applies one order event. The per-order state makes the end result independent of arrival
 * order: a completion after a cancellation earns and confirms nothing; a cancellation after a
 * completion reverses the points earned (capped at the balance). Releases and confirmations touch
 * only RESERVED redemptions, so repeating them is harmless.
 */
async function applyOrderFact(deps: LoyaltyDeps, tx: LoyaltyTx, fact: OrderFact, crossings: Crossing[]): Promise<void> {
  let account = await ensureAccount(deps, tx, fact.customerId)
  const state = await tx.orderState(fact.orderId)
  const now = deps.clock()
  if (account.status === 'closed') {
    await tx.saveOrderState({
      orderId: fact.orderId,
      customerId: fact.customerId,
      state: fact.kind === 'placed' ? (state?.state ?? 'placed') : fact.kind,
      earnEntryId: state?.earnEntryId ?? null,
      updatedAt: now,
    })
    return
  }
  if (fact.kind === 'placed') {
    // Only marks that the order exists, so the hold-period release leaves its reservations alone.
    if (!state)
      await tx.saveOrderState({
        orderId: fact.orderId,
        customerId: fact.customerId,
        state: 'placed',
        earnEntryId: null,
        updatedAt: now,
      })
    return
  }
  const redemptions = await tx.redemptionsOfOrder(fact.orderId)

  if (fact.kind === 'completed') {
    if (state && state.state !== 'placed') return // completed before, or cancelled first: nothing to earn or confirm
    account = await confirmReserved(deps, tx, account, redemptions, ACTOR)
    const tier = tierFor(deps.rules, account.lifetime)
    // Capped so the account stays within MAX_AMOUNT (an order that large earns what still fits).
    const points = Math.min(pointsForAmount(deps.rules, fact.total.amountMinor, tier), headroom(account))
    let earnEntryId: string | null = null
    if (points > 0) {
      const posted = await post(deps, tx, account, {
        kind: 'earn',
        points,
        lifetimeDelta: points,
        sourceId: fact.eventId,
        orderId: fact.orderId,
        reason: 'order completed',
        actor: ACTOR,
        earnBasis: fact.total,
        multiplierPercent: multiplierPercent(deps.rules, tier),
        activity: true,
      })
      if (posted) {
        earnEntryId = posted.entry.id
        crossings.push(...posted.crossings)
      }
    }
    await tx.saveOrderState({ orderId: fact.orderId, customerId: fact.customerId, state: 'completed', earnEntryId, updatedAt: now })
    return
  }

  account = (await releaseReserved(deps, tx, account, redemptions, fact.reason, ACTOR)).account
  if (state?.state === 'completed' && state.earnEntryId) {
    const earned = await tx.entry(state.earnEntryId)
    const points = Math.min(earned?.points ?? 0, account.balance)
    if (earned && points > 0) {
      await post(deps, tx, account, {
        kind: 'reverse',
        points: -points,
        lifetimeDelta: -points,
        sourceId: fact.eventId,
        orderId: fact.orderId,
        reason: `order cancelled: ${fact.reason}`.slice(0, 500),
        actor: ACTOR,
        reversesEntryId: earned.id,
      })
    }
  }
  await tx.saveOrderState({
    orderId: fact.orderId,
    customerId: fact.customerId,
    state: 'cancelled',
    earnEntryId: state?.earnEntryId ?? null,
    updatedAt: now,
  })
}
