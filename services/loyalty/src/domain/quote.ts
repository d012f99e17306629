import type { Account, Cart, CartItem, CartQuote, Money, QuoteIssue, Reward, RewardQuote } from './model.ts'
import { tierFor, tierRank, type LoyaltyRules } from './rules.ts'

/** What earlier rewards left of a cart: points, discount room and units not yet free. */
interface Remaining {
  balance: number
  discountRoom: number
  /** Per line id: units already given away free. */
  freeUnits: Map<string, number>
  /** Per line id: amount of the line already discounted. */
  discounted: Map<string, number>
}

const money = (amountMinor: number, currency: string): Money => ({ amountMinor, currency })

/** floor(amount x percent / 100), exact for any amount up to MAX_AMOUNT (the product itself may not be). */
export const percentOf = (amount: number, percent: number) =>
  Math.floor(amount / 100) * percent + Math.floor(((amount % 100) * percent) / 100)

function eligible(reward: Reward, item: CartItem): boolean {
  if (reward.eligibleCategories.length === 0 && reward.eligibleMenuItemIds.length === 0) return true
  return reward.eligibleCategories.includes(item.category) || reward.eligibleMenuItemIds.includes(item.menuItemId)
}

const notApplicable = (
  rewardId: string,
  reward: Reward | undefined,
  currency: string,
  issue: QuoteIssue,
  issueMessage: string,
): RewardQuote => ({
  rewardId,
  reward,
  applicable: false,
  discount: money(0, currency),
  lineIds: [],
  issue,
  issueMessage,
})

/**
 * One reward against what is left of the cart. Returns the quote and, when applicable, the
 * remaining state after it (the input is not changed).
 */
function applyReward(
  rules: LoyaltyRules,
  account: Account,
  cart: Cart,
  rewardId: string,
  reward: Reward | undefined,
  left: Remaining,
): { quote: RewardQuote; left: Remaining } {
  const currency = cart.subtotal.currency
  const no = (issue: QuoteIssue, message: string) => ({ quote: notApplicable(rewardId, reward, currency, issue, message), left })
  if (!reward) return no('reward_not_found', `reward ${rewardId} is not in the catalog`)
  if (account.status === 'closed') return no('account_closed', 'the account is closed')
  if (!reward.active) return no('reward_inactive', `${reward.name} is not available`)
  const tier = tierFor(rules, account.lifetime)
  if (reward.minTier && tierRank(tier) < tierRank(reward.minTier)) return no('tier_too_low', `${reward.name} needs tier ${reward.minTier}`)
  if (reward.costPoints > left.balance) {
    return no('insufficient_points', `${reward.name} costs ${reward.costPoints} points, ${left.balance} available`)
  }
  if (reward.minSubtotal && (reward.minSubtotal.currency !== currency || cart.subtotal.amountMinor < reward.minSubtotal.amountMinor)) {
    return no(
      'min_subtotal_not_met',
      `${reward.name} needs a subtotal of at least ${reward.minSubtotal.amountMinor} ${reward.minSubtotal.currency}`,
    )
  }
  const items = cart.items.filter((item) => eligible(reward, item))
  if (items.length === 0) return no('no_eligible_item', `no item in the cart is eligible for ${reward.name}`)

  const freeUnits = new Map(left.freeUnits)
  const discounted = new Map(left.discounted)
  let discount = 0
  let lineIds: string[] = []
  switch (reward.kind) {
    case 'free_drink': {
      // The most expensive eligible unit not already free (ties: cart order).
      const candidates = items.filter((item) => (freeUnits.get(item.lineId) ?? 0) < item.quantity)
      const best = candidates.reduce<CartItem | undefined>(
        (top, item) => (!top || item.unitPrice.amountMinor > top.unitPrice.amountMinor ? item : top),
        undefined,
      )
      if (!best) return no('no_eligible_item', `every eligible unit is already free`)
      freeUnits.set(best.lineId, (freeUnits.get(best.lineId) ?? 0) + 1)
      discount = best.unitPrice.amountMinor
      lineIds = [best.lineId]
      break
    }
    case 'amount_off':
    case 'percent_off': {
      const base = items.reduce((sum, item) => sum + Math.max(0, item.lineTotal.amountMinor - (discounted.get(item.lineId) ?? 0)), 0)
      if (reward.kind === 'amount_off') {
        if (!reward.amountOff || reward.amountOff.currency !== currency) {
          return no('no_eligible_item', `${reward.name} is not offered in the cart's currency`)
        }
        discount = Math.min(reward.amountOff.amountMinor, base)
      } else {
        discount = percentOf(base, reward.percentOff)
      }
      const whole = reward.eligibleCategories.length === 0 && reward.eligibleMenuItemIds.length === 0
      lineIds = whole ? [] : items.map((i) => i.lineId)
      break
    }
  }
  if (reward.maxDiscount && reward.maxDiscount.currency === currency) discount = Math.min(discount, reward.maxDiscount.amountMinor)
  discount = Math.min(discount, left.discountRoom)
  if (discount <= 0) return no('nothing_left_to_discount', 'the other rewards already take the whole subtotal')
  // Spread the discount over its lines (in cart order) so later percent rewards see what is left.
  let toSpread = discount
  for (const item of items.filter((i) => lineIds.length === 0 || lineIds.includes(i.lineId))) {
    const room = item.lineTotal.amountMinor - (discounted.get(item.lineId) ?? 0)
    const take = Math.min(room, toSpread)
    discounted.set(item.lineId, (discounted.get(item.lineId) ?? 0) + take)
    toSpread -= take
  }
  return {
    quote: { rewardId, reward, applicable: true, discount: money(discount, currency), lineIds, issue: undefined, issueMessage: '' },
    left: { balance: left.balance - reward.costPoints, discountRoom: left.discountRoom - discount, freeUnits, discounted },
  }
}

/**
 * The quote for a (valid) cart: the chosen rewards applied in the order chosen, each on what the
 * earlier ones left, then the active affordable rewards not chosen that would still apply on top,
 * largest discount first. Pure: the same cart and account always give the same quote.
 */
export function quoteCart(rules: LoyaltyRules, account: Account, catalog: readonly Reward[], cart: Cart): CartQuote {
  const byId = new Map(catalog.map((r) => [r.id, r]))
  let left: Remaining = { balance: account.balance, discountRoom: cart.subtotal.amountMinor, freeUnits: new Map(), discounted: new Map() }
  const chosen: RewardQuote[] = []
  for (const id of cart.chosenRewardIds) {
    const applied = applyReward(rules, account, cart, id, byId.get(id.toLowerCase()), left)
    chosen.push(applied.quote)
    left = applied.left
  }
  const chosenIds = new Set(cart.chosenRewardIds.map((id) => id.toLowerCase()))
  const suggestions = catalog
    .filter((r) => r.active && !chosenIds.has(r.id))
    .map((r) => applyReward(rules, account, cart, r.id, r, left).quote)
    .filter((q) => q.applicable)
    .sort((a, b) => b.discount.amountMinor - a.discount.amountMinor || (a.reward?.costPoints ?? 0) - (b.reward?.costPoints ?? 0))
  const applicable = chosen.filter((q) => q.applicable)
  return {
    chosen,
    suggestions,
    totalDiscount: money(
      applicable.reduce((sum, q) => sum + q.discount.amountMinor, 0),
      cart.subtotal.currency,
    ),
    pointsRequired: applicable.reduce((sum, q) => sum + (q.reward?.costPoints ?? 0), 0),
    balance: account.balance,
    tier: tierFor(rules, account.lifetime),
  }
}
