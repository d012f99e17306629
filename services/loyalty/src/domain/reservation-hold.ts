import { releaseReserved } from './redemptions.ts'
import { SYSTEM } from './model.ts'
import type { LoyaltyDeps } from './ports.ts'

const ACTOR = SYSTEM('reservation-hold')
const BATCH = 500

/**
 * Releases RESERVED redemptions older than the hold period whose order never showed up on the
 * order events topic (the checkout broke before the order was stored), so no points stay
 * stranded, and voids them (as ReleaseRedemptions does). An order that did show up is left to
 * its own events. Idempotent: a released redemption is not RESERVED any more.
 */
export async function releaseStranded(deps: LoyaltyDeps, now: Date): Promise<{ released: number }> {
  const cutoff = new Date(now.getTime() - deps.rules.reservationHoldMinutes * 60_000)
  let released = 0
  const seen = new Set<string>()
  for (;;) {
    const stranded = (await deps.store.strandedRedemptions(cutoff, BATCH)).filter((r) => !seen.has(r.id))
    if (stranded.length === 0) return { released }
    for (const candidate of stranded) {
      seen.add(candidate.id)
      released += await deps.store.transaction(async (tx) => {
        // Locks in the order every writer uses (account, then order), then re-checks: the order's
        // events may have arrived meanwhile.
        const account = await tx.account(candidate.customerId, true)
        if (!account || account.status === 'closed' || (await tx.orderState(candidate.orderId))) return 0
        const current = (await tx.redemptionsOfOrder(candidate.orderId)).filter((r) => r.id === candidate.id)
        const { released: done } = await releaseReserved(deps, tx, account, current, 'reservation hold period passed', ACTOR)
        // The order never got placed: a late retry of its placement may reserve again.
        await tx.voidRedemptions(done.map((r) => r.id))
        return done.length
      })
    }
  }
}
