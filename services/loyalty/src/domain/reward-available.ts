import type { Crossing, LoyaltyDeps } from './ports.ts'
import { canAfford } from './rules.ts'

/**
 * Publishes RewardAvailable for one crossing, once: the (customer, reward, entry) claim is
 * recorded with the event, so a retried or duplicated job sends nothing more. A reward no longer
 * affordable by the time the job runs is not announced.
 */
export async function announceReward(deps: LoyaltyDeps, crossing: Crossing): Promise<boolean> {
  const reward = (await deps.store.rewards()).find((r) => r.id === crossing.rewardId)
  return deps.store.transaction(async (tx) => {
    if (!(await tx.claimNotification(crossing.customerId, crossing.rewardId, crossing.entryId))) return false
    const account = await tx.account(crossing.customerId, true)
    if (!account || !reward || !canAfford(deps.rules, account, reward)) return false
    const after = { ...account, version: account.version + 1, updatedAt: deps.clock() }
    await tx.updateAccount(after)
    await tx.record({ kind: 'reward_available', account: after, reward })
    return true
  })
}
