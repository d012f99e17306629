import { releaseReserved } from './redemptions.ts'
import { SYSTEM } from './model.ts'
import type { LoyaltyDeps } from './ports.ts'

const ACTOR = SYSTEM('reservation-hold')
const BATCH = 500

/**
 * Releases RESERVED redemptions that no placement has asked for during the hold period and whose
 * order was never stored (the checkout broke before it was), so no points stay stranded, and
 * voids them (as ReleaseRedemptions does). An order that showed up on the order events topic is
 * left to its own events. One that did not is not taken for absent: its OrderPlaced may still be
 * on its way (the Order Service's outbox, a broker outage, this service's consumer behind), so
 * the Order Service is asked, and only its NOT_FOUND releases. When it cannot answer, the run
 * stops there (`deferred` counts what it left) and the next run asks again. Idempotent: a
 * released redemption is not RESERVED any more.
 *
 * A retry of the placement that gets the redemption back claims it afresh (redeemReward), so one
 * that is storing its order right now is never released under it: the claim is re-read under the
 * account's lock, after the Order Service answered.
 */
export async function releaseStranded(deps: LoyaltyDeps, now: Date): Promise<{ released: number; deferred: number }> {
  const cutoff = new Date(now.getTime() - deps.rules.reservationHoldMinutes * 60_000)
  let released = 0
  const seen = new Set<string>()
  for (;;) {
    const stranded = (await deps.store.strandedRedemptions(cutoff, BATCH)).filter((r) => !seen.has(r.id))
    if (stranded.length === 0) return { released, deferred: 0 }
    for (const [i, candidate] of stranded.entries()) {
      seen.add(candidate.id)
      const placed = await deps.orders.exists(candidate.orderId).catch(() => undefined)
      if (placed === undefined) return { released, deferred: stranded.length - i }
      if (placed) continue
      released += await deps.store.transaction(async (tx) => {
        // Locks in the order every writer uses (account, then order), then re-checks: the order's
        // events may have arrived meanwhile, or a retry may have claimed it again.
        const account = await tx.account(candidate.customerId, true)
        if (!account || account.status === 'closed' || (await tx.orderState(candidate.orderId))) return 0
        const current = (await tx.redemptionsOfOrder(candidate.orderId)).filter(
          (r) => r.id === candidate.id && r.claimedAt.getTime() < cutoff.getTime(),
        )
        const { released: done } = await releaseReserved(deps, tx, account, current, 'reservation hold period passed', ACTOR)
        // The order never got placed: a late retry of its placement may reserve again.
        await tx.voidRedemptions(done.map((r) => r.id))
        return done.length
      })
    }
  }
}
