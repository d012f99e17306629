import type { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { Tier } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import { WatchAccountResponse_ChangeKind as Kind, type WatchAccountResponse } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { AsyncQueue, type FanOut } from '@brewmesh/runtime/streams'
import { getAccount } from '../domain/accounts.ts'
import type { LoyaltyDeps } from '../domain/ports.ts'
import { canAfford } from '../domain/rules.ts'
import { accountToProto, entryToProto, rewardToProto } from '../proto/loyalty-mapper.ts'

/** Events a slow watcher may fall behind by before its stream is ended. */
const MAX_PENDING = 1000

/** The ledger entry an event is about, when it is about one. */
function entryIdOf(event: LoyaltyEvent): string | undefined {
  const p = event.payload
  switch (p?.$case) {
    case 'pointsEarned':
    case 'pointsRedeemed':
    case 'redemptionConfirmed':
    case 'redemptionReleased':
    case 'pointsExpired':
    case 'pointsReversed':
    case 'pointsAdjusted':
      return p.value.entryId
    default:
      return undefined
  }
}

/**
 * Server streaming: subscribes before reading the snapshot, so no change falls between the two;
 * events at or below the snapshot's version are dropped. Each later event becomes one message,
 * with the account as stored when it is sent; the CLOSED message is the last.
 */
export async function* watchAccount(
  deps: LoyaltyDeps,
  accounts: FanOut<LoyaltyEvent>,
  customerId: string,
  signal: AbortSignal,
): AsyncIterable<WatchAccountResponse> {
  const queue = new AsyncQueue<LoyaltyEvent>(MAX_PENDING, signal)
  const unsubscribe = accounts.subscribe(customerId, (event) => void queue.push(event))
  const base = { entry: undefined, previousTier: Tier.TIER_UNSPECIFIED, rewards: [] }
  try {
    await accounts.live() // a feed that slept for want of streams fetches again first
    const account = await getAccount(deps, customerId)
    const affordable = (await deps.store.rewards()).filter((r) => canAfford(deps.rules, account, r)).map(rewardToProto)
    yield {
      ...base,
      kind: Kind.CHANGE_KIND_SNAPSHOT,
      account: accountToProto(deps.rules, account),
      rewards: affordable,
      changedAt: account.updatedAt,
    }
    if (account.status === 'closed') return
    let version = account.version
    for await (const event of queue) {
      if (Number(event.version) <= version) continue
      version = Number(event.version)
      const current = await deps.store.account(customerId)
      if (!current) return
      const common = { ...base, account: accountToProto(deps.rules, current), changedAt: event.metadata?.occurredAt }
      const p = event.payload
      const entryId = entryIdOf(event)
      if (entryId) {
        const entry = await deps.store.entry(entryId)
        yield { ...common, kind: Kind.CHANGE_KIND_BALANCE_CHANGED, entry: entry && entryToProto(entry) }
      } else if (p?.$case === 'tierChanged') {
        yield { ...common, kind: Kind.CHANGE_KIND_TIER_CHANGED, previousTier: p.value.previousTier }
      } else if (p?.$case === 'rewardAvailable') {
        const reward = (await deps.store.rewards()).find((r) => r.id === p.value.rewardId)
        if (reward) yield { ...common, kind: Kind.CHANGE_KIND_REWARDS_AVAILABLE, rewards: [rewardToProto(reward)] }
      } else if (p?.$case === 'accountClosed') {
        yield { ...common, kind: Kind.CHANGE_KIND_CLOSED }
        return
      }
    }
  } finally {
    unsubscribe()
  }
}
