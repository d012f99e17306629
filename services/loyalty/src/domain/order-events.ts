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

/** How an order ended, as far as loyalty is concerned. */
type Outcome = Exclude<OrderFact, { kind: 'placed' }>

/**
 * Applies a chunk of order events in one transaction, each event once (the ids are recorded in
 * it), each in its own trace (an account a customer's first event opens, its PointsEarned,
 * continue that event's trace). The accounts they touch are locked first, in id order, so two
 * chunks applied at the same time never wait on each other in a cycle.
 *
 * A placement only marks that its order exists, whatever the account's state, and only when the
 * order has no state yet, so the chunk's placements are marked together, in one statement, before
 * its other events are applied in arrival order. The result is the one of arrival order: a
 * completion or cancellation that arrived before its placement finds no state, or "placed", and
 * does the same either way; the placement after it changes nothing.
 */
export async function applyOrderFacts(deps: LoyaltyDeps, events: readonly Traced<OrderFact>[]): Promise<void> {
  if (events.length === 0) return
  await withCrossings(deps, (crossings) =>
    deps.store.transaction(async (tx) => {
      const fresh = await tx.claimEvents(ORDER_CONSUMER, events, (e) => e.value.eventId)
      const existing = await tx.lockAccounts(fresh.map((e) => e.value.customerId))
      const placed = fresh.filter((e) => e.value.kind === 'placed')
      for (const event of placed) {
        if (existing.has(event.value.customerId)) continue
        await event.inTrace(() => ensureAccount(deps, tx, event.value.customerId))
        existing.add(event.value.customerId)
      }
      await tx.markPlaced(
        placed.map((e) => e.value),
        deps.clock(),
      )
      for (const event of fresh) {
        const fact = event.value
        if (fact.kind !== 'placed') await event.inTrace(() => applyOrderFact(deps, tx, fact, crossings))
      }
    }),
  )
}

/**
 * Applies an order's completion or cancellation. The per-order state makes the end result independent of arrival
 * order: a completion after a cancellation earns and confirms nothing; a cancellation after a
 * completion reverses the points earned (capped at the balance). Releases and confirmations touch
 * only RESERVED redemptions, so repeating them is harmless.
 */
async function applyOrderFact(deps: LoyaltyDeps, tx: LoyaltyTx, fact: Outcome, crossings: Crossing[]): Promise<void> {
  // The account, the order's state and its redemptions, in one read; a customer never seen gets an account first.
  let context = await tx.redemptionContext(fact.customerId, fact.orderId)
  if (!context.account) {
    await ensureAccount(deps, tx, fact.customerId)
    context = await tx.redemptionContext(fact.customerId, fact.orderId)
  }
  const { state, ofOrder: redemptions } = context
  let account = context.account!
  const now = deps.clock()
  if (account.status === 'closed') {
    await tx.saveOrderState({
      orderId: fact.orderId,
      customerId: fact.customerId,
      state: fact.kind,
      earnEntryId: state?.earnEntryId ?? null,
      updatedAt: now,
    })
    return
  }

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
