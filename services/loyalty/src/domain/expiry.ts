import { post } from './ledger.ts'
import { SYSTEM } from './model.ts'
import type { LoyaltyDeps } from './ports.ts'

const ACTOR = SYSTEM('points-expiry')
const BATCH = 500

export interface ExpiryRun {
  period: string
  expiredAccounts: number
  expiredPoints: number
}

/**
 * Expires the balance of every open account inactive (no EARN, RESERVE or ADJUST) for the
 * configured period before `now`. The period key is the run's UTC date and the EXPIRE entry's
 * source is "expire:<period>", so running twice for the same period writes nothing more.
 * Reserved points are held for orders and do not expire.
 */
export async function expireInactive(deps: LoyaltyDeps, now: Date): Promise<ExpiryRun> {
  const period = now.toISOString().slice(0, 10)
  const cutoff = new Date(now.getTime() - deps.rules.expiryInactivityDays * 86_400_000)
  const run: ExpiryRun = { period, expiredAccounts: 0, expiredPoints: 0 }
  const seen = new Set<string>()
  for (;;) {
    const ids = (await deps.store.inactiveAccounts(cutoff, BATCH)).filter((id) => !seen.has(id))
    if (ids.length === 0) return run
    for (const customerId of ids) {
      seen.add(customerId)
      const expired = await deps.store.transaction(async (tx) => {
        const account = await tx.account(customerId, true)
        if (!account || account.status !== 'open' || account.balance <= 0 || !account.lastActivityAt || account.lastActivityAt >= cutoff)
          return 0
        const posted = await post(deps, tx, account, {
          kind: 'expire',
          points: -account.balance,
          sourceId: `expire:${period}`,
          reason: `inactive since ${account.lastActivityAt.toISOString().slice(0, 10)}`,
          actor: ACTOR,
          expiry: { period, inactiveSince: account.lastActivityAt, inactivityDays: deps.rules.expiryInactivityDays, expiredAt: now },
        })
        return posted ? account.balance : 0
      })
      if (expired > 0) {
        run.expiredAccounts += 1
        run.expiredPoints += expired
      }
    }
  }
}
