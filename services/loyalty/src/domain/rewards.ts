import { Violations } from '@brewmesh/runtime/errors'
import { checkUuid } from '@brewmesh/runtime/ids'
import { pageSize, pageTokens, positionOf } from '@brewmesh/runtime/paging'
import { getAccount } from './accounts.ts'
import type { Account, Cart, CartQuote, QuoteIssue, Reward } from './model.ts'
import type { LoyaltyDeps } from './ports.ts'
import { quoteCart } from './quote.ts'
import { canAfford, tierFor, tierRank } from './rules.ts'
import { requireValidCart } from './validation.ts'

export interface RewardListing {
  reward: Reward
  affordable: boolean
  pointsShort: number
  issue: QuoteIssue | undefined
}

export interface RewardsRequest {
  pageSize: number
  pageToken: string
  customerId: string
  onlyAffordable: boolean
  includeInactive: boolean
}

function listingFor(deps: LoyaltyDeps, reward: Reward, account: Account | undefined): RewardListing {
  if (!account) return { reward, affordable: false, pointsShort: 0, issue: undefined }
  const pointsShort = Math.max(0, reward.costPoints - account.balance)
  if (canAfford(deps.rules, account, reward)) return { reward, affordable: true, pointsShort: 0, issue: undefined }
  const issue: QuoteIssue =
    account.status === 'closed'
      ? 'account_closed'
      : !reward.active
        ? 'reward_inactive'
        : reward.minTier && tierRank(tierFor(deps.rules, account.lifetime)) < tierRank(reward.minTier)
          ? 'tier_too_low'
          : 'insufficient_points'
  return { reward, affordable: false, pointsShort, issue }
}

/** Where a page of the catalog ended: how many listings came before the next page. */
const catalogPages = pageTokens((raw) => {
  const offset = positionOf.integer(raw['o'])
  return offset === undefined ? undefined : { o: offset }
})

/** The catalog, cheapest first; with a customer, each entry says whether they can redeem it now. */
export async function listRewards(
  deps: LoyaltyDeps,
  r: RewardsRequest,
): Promise<{ rewards: RewardListing[]; nextPageToken: string; account: Account | undefined }> {
  const v = new Violations()
  if (r.customerId) checkUuid(v, r.customerId, 'customer_id')
  if (r.onlyAffordable && !r.customerId) v.add('customer_id', 'is required with only_affordable')
  v.throwIfAny()
  const limit = pageSize(r.pageSize, 100, 500)
  const filters = [r.customerId.toLowerCase(), r.onlyAffordable, r.includeInactive && !r.onlyAffordable]
  const offset = catalogPages.decode(r.pageToken, filters)?.o ?? 0
  const account = r.customerId ? await getAccount(deps, r.customerId) : undefined
  const listings = (await deps.store.rewards())
    .filter((reward) => reward.active || (r.includeInactive && !r.onlyAffordable))
    .map((reward) => listingFor(deps, reward, account))
    .filter((listing) => !r.onlyAffordable || listing.affordable)
  const page = listings.slice(offset, offset + limit)
  const nextPageToken = offset + limit < listings.length ? catalogPages.encode({ o: offset + limit }, filters) : ''
  return { rewards: page, nextPageToken, account }
}

/** Read-only quote of a cart for a customer; a reward that does not apply is in the quote, never an error. */
export async function quoteRewards(deps: LoyaltyDeps, customerId: string, cart: Cart | undefined): Promise<CartQuote> {
  const v = new Violations()
  checkUuid(v, customerId, 'customer_id')
  v.throwIfAny()
  requireValidCart(cart)
  const account = await getAccount(deps, customerId)
  return quoteCart(deps.rules, account, await deps.store.rewards(), cart)
}
