import { createHash } from 'node:crypto'
import { invalid, notFound, Violations } from '@brewmesh/runtime/errors'
import { checkUuid } from '@brewmesh/runtime/ids'
import { existing, lockedAccount, post, refused, withCrossings } from './ledger.ts'
import type { Account, Actor, Cart, CartQuote, Redemption, Reward, RewardQuote } from './model.ts'
import type { LoyaltyDeps, LoyaltyTx, RedemptionContext } from './ports.ts'
import { quoteCart } from './quote.ts'
import { concurrentModification, REASONS } from './reasons.ts'
import { checkText, requireValidCart } from './validation.ts'

export interface RedeemRequest {
  requestId: string
  customerId: string
  rewardId: string
  orderId: string
  cart: Cart | undefined
}

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex')
const cartKey = (cart: Cart) => [cart.items, cart.subtotal]

export const issueReason = (q: RewardQuote) => `QUOTE_ISSUE_${(q.issue ?? 'unspecified').toUpperCase()}`

/** Refuses redemptions against an order that is over (completed or cancelled, or with final redemptions). */
function openOrder(context: RedemptionContext, orderId: string, customerId: string): Redemption[] {
  const { state, ofOrder } = context
  if ((state && state.state !== 'placed') || ofOrder.some((r) => r.state !== 'reserved')) {
    throw refused(REASONS.orderOver, `order ${orderId} is over: it completed or was cancelled, or its redemptions are final`)
  }
  if (ofOrder.some((r) => r.customerId !== customerId)) {
    throw refused(REASONS.orderOfAnotherCustomer, `order ${orderId} has redemptions of another customer`)
  }
  return ofOrder
}

/** Takes a reward's cost out of the balance and holds it for the order (a RESERVE entry). */
async function reserve(
  deps: LoyaltyDeps,
  tx: LoyaltyTx,
  account: Account,
  quote: RewardQuote & { reward: Reward },
  ids: { orderId: string; requestId: string; requestHash: string },
  actor: Actor,
): Promise<{ redemption: Redemption; account: Account }> {
  const redemption: Redemption = {
    id: deps.newId(),
    customerId: account.customerId,
    rewardId: quote.reward.id,
    rewardName: quote.reward.name,
    rewardKind: quote.reward.kind,
    orderId: ids.orderId,
    points: quote.reward.costPoints,
    discount: quote.discount,
    lineIds: quote.lineIds,
    state: 'reserved',
    requestId: ids.requestId,
    requestHash: ids.requestHash,
    releaseReason: '',
    reservedAt: deps.clock(),
    claimedAt: deps.clock(),
    claim: 1,
    confirmedAt: null,
    releasedAt: null,
  }
  const posted = await post(deps, tx, account, {
    kind: 'reserve',
    points: -redemption.points,
    reservedDelta: redemption.points,
    // The redemption, not its request id: a voided request id may reserve again (releaseUnplaced).
    sourceId: redemption.id,
    orderId: ids.orderId,
    redemptionId: redemption.id,
    reason: `redeemed ${quote.reward.name}`,
    actor,
    activity: true,
    redemption,
    writeRedemption: 'insert',
  })
  if (!posted) throw concurrentModification('a concurrent redemption with this request_id won; retry')
  return { redemption, account: posted.account }
}

/**
 * RedeemReward: reserves one reward's cost against an order. request_id makes a retry return the
 * redemption made first (whatever its state now); the same key for another request is
 * INVALID_ARGUMENT. A retry that gets back a RESERVED redemption claims it afresh: the retry may be
 * about to store its order, so the reservation hold starts over. The discount is computed on what
 * the order's earlier reservations left.
 */
export async function redeemReward(
  deps: LoyaltyDeps,
  actor: Actor,
  r: RedeemRequest,
): Promise<{ redemption: Redemption; account: Account }> {
  const v = new Violations()
  checkText(v, r.requestId, 'request_id', 128)
  checkUuid(v, r.customerId, 'customer_id')
  checkUuid(v, r.rewardId, 'reward_id')
  checkUuid(v, r.orderId, 'order_id')
  v.throwIfAny()
  requireValidCart(r.cart ? { ...r.cart, chosenRewardIds: [] } : undefined)
  const cart = r.cart!
  const [customerId, rewardId, orderId] = [r.customerId.toLowerCase(), r.rewardId.toLowerCase(), r.orderId.toLowerCase()]
  const requestHash = hashOf([customerId, rewardId, orderId, cartKey(cart)])
  const catalog = await deps.store.rewards()
  return deps.store.transaction(async (tx) => {
    const context = await tx.redemptionContext(customerId, orderId, r.requestId)
    const account = existing(context.account, customerId)
    const earlier = context.byRequest
    if (earlier) {
      if (earlier.requestHash !== requestHash)
        throw invalid([{ field: 'request_id', description: 'was already used for a different request' }])
      return { redemption: await claimAgain(deps, tx, earlier), account }
    }
    if (!catalog.some((reward) => reward.id === rewardId)) throw notFound('reward', rewardId)
    if (account.status === 'closed') throw refused('QUOTE_ISSUE_ACCOUNT_CLOSED', `the loyalty account of customer ${customerId} is closed`)
    const earlierOfOrder = openOrder(context, orderId, customerId).filter((x) => x.state === 'reserved')
    // The order's reservations are already out of the balance: quote as if they were not, in order.
    const held = earlierOfOrder.reduce((sum, x) => sum + x.points, 0)
    const quote = quoteCart(deps.rules, { ...account, balance: account.balance + held }, catalog, {
      ...cart,
      chosenRewardIds: [...earlierOfOrder.map((x) => x.rewardId), rewardId],
    })
    const mine = quote.chosen.at(-1)!
    if (!mine.applicable || !mine.reward) throw refused(issueReason(mine), mine.issueMessage)
    return reserve(deps, tx, account, { ...mine, reward: mine.reward }, { orderId, requestId: r.requestId, requestHash }, actor)
  })
}

/** A retry got a redemption back: a RESERVED one is claimed once more, and its hold restarts now. */
async function claimAgain(deps: LoyaltyDeps, tx: LoyaltyTx, redemption: Redemption): Promise<Redemption> {
  if (redemption.state !== 'reserved') return redemption
  const now = deps.clock()
  await tx.claimRedemptions([redemption.id], now)
  return { ...redemption, claimedAt: now, claim: redemption.claim + 1 }
}

export interface CommitResult {
  redemptions: Redemption[]
  quote: CartQuote
  account: Account
}

export type CommitOutcome = { ok: CommitResult } | { notApplicable: CartQuote } | { invalidCommit: string }

/**
 * A checkout commit: reserves every chosen reward of the cart against the order, all or none.
 * Each redemption's request_id is the commit's plus its position, so the same commit (also on a
 * new stream) returns the same redemptions.
 */
export async function commitCart(
  deps: LoyaltyDeps,
  actor: Actor,
  c: { customerId: string; requestId: string; orderId: string; cart: Cart },
): Promise<CommitOutcome> {
  const orderId = c.orderId.toLowerCase()
  const requestHash = hashOf([c.customerId, orderId, cartKey(c.cart), c.cart.chosenRewardIds.map((id) => id.toLowerCase())])
  const catalog = await deps.store.rewards()
  return withCrossings(deps, () =>
    deps.store.transaction(async (tx): Promise<CommitOutcome> => {
      const context = await tx.redemptionContext(c.customerId, orderId)
      const account = existing(context.account, c.customerId)
      const earlier = await tx.redemptionsByRequestPrefix(`${c.requestId}:`)
      const quote = quoteCart(deps.rules, account, catalog, c.cart)
      if (earlier.length > 0) {
        if (earlier.some((x) => x.requestHash !== requestHash)) return { invalidCommit: 'was already used for a different commit' }
        const claimed: Redemption[] = []
        for (const x of earlier) claimed.push(await claimAgain(deps, tx, x))
        return { ok: { redemptions: claimed, quote, account } }
      }
      if (quote.chosen.some((q) => !q.applicable)) return { notApplicable: quote }
      openOrder(context, orderId, c.customerId)
      let current = account
      const redemptions: Redemption[] = []
      for (const [i, q] of quote.chosen.entries()) {
        const made = await reserve(
          deps,
          tx,
          current,
          { ...q, reward: q.reward! },
          { orderId, requestId: `${c.requestId}:${i}`, requestHash },
          actor,
        )
        redemptions.push(made.redemption)
        current = made.account
      }
      return { ok: { redemptions, quote, account: current } }
    }),
  )
}

/** Gives back the points of RESERVED redemptions (a RELEASE entry each); returns those released. */
export async function releaseReserved(
  deps: LoyaltyDeps,
  tx: LoyaltyTx,
  account: Account,
  redemptions: Redemption[],
  reason: string,
  actor: Actor,
): Promise<{ account: Account; released: Redemption[] }> {
  const released: Redemption[] = []
  let current = account
  for (const redemption of redemptions.filter((x) => x.state === 'reserved')) {
    const done: Redemption = { ...redemption, state: 'released', releaseReason: reason, releasedAt: deps.clock() }
    const posted = await post(deps, tx, current, {
      kind: 'release',
      points: redemption.points,
      reservedDelta: -redemption.points,
      sourceId: redemption.id,
      orderId: redemption.orderId,
      redemptionId: redemption.id,
      reason,
      actor,
      redemption: done,
      writeRedemption: 'update',
    })
    if (posted) current = posted.account
    released.push(done)
  }
  return { account: current, released }
}

/** Makes RESERVED redemptions final (a CONFIRM entry each, balance unchanged). */
export async function confirmReserved(
  deps: LoyaltyDeps,
  tx: LoyaltyTx,
  account: Account,
  redemptions: Redemption[],
  actor: Actor,
): Promise<Account> {
  let current = account
  for (const redemption of redemptions.filter((x) => x.state === 'reserved')) {
    const done: Redemption = { ...redemption, state: 'confirmed', confirmedAt: deps.clock() }
    const posted = await post(deps, tx, current, {
      kind: 'confirm',
      points: 0,
      reservedDelta: -redemption.points,
      sourceId: redemption.id,
      orderId: redemption.orderId,
      redemptionId: redemption.id,
      reason: 'order completed',
      actor,
      redemption: done,
      writeRedemption: 'update',
    })
    if (posted) current = posted.account
  }
  return current
}

export interface ReleaseRequest {
  customerId: string
  orderId: string
  reason: string
  /** Only these redemptions, each while its claim is still this one; empty: every RESERVED one of the order. */
  only: { redemptionId: string; claim: number }[]
}

/** Why redemptions given back by a placement that failed were released, unless the caller says. */
export const NOT_PLACED = 'order not placed'

/**
 * ReleaseRedemptions: the Order Service could not place the order it reserved rewards for, so its
 * RESERVED redemptions are released now (not after the hold period) and voided, which frees their
 * request ids for a retry of the same placement. With `only`, just the named ones, and each only
 * while nobody claimed it since the caller saw it: a retry of the same placement that got it back
 * may be storing the order with it. An order already known to be placed keeps its reservations:
 * they follow its events.
 */
export async function releaseUnplaced(deps: LoyaltyDeps, actor: Actor, r: ReleaseRequest): Promise<Redemption[]> {
  const v = new Violations()
  checkUuid(v, r.customerId, 'customer_id')
  checkUuid(v, r.orderId, 'order_id')
  checkText(v, r.reason, 'reason', 200, false)
  r.only.forEach((o, i) => {
    checkUuid(v, o.redemptionId, `only[${i}].redemption_id`)
    v.check(Number.isInteger(o.claim) && o.claim >= 1, `only[${i}].claim`, 'must be 1 or more')
  })
  v.throwIfAny()
  const [customerId, orderId] = [r.customerId.toLowerCase(), r.orderId.toLowerCase()]
  const seen = new Map(r.only.map((o) => [o.redemptionId.toLowerCase(), o.claim]))
  const asSeen = (x: Redemption) => r.only.length === 0 || seen.get(x.id) === x.claim
  return deps.store.transaction(async (tx) => {
    const { account: found, state, ofOrder } = await tx.redemptionContext(customerId, orderId)
    const account = existing(found, customerId)
    if (state) throw refused(REASONS.orderPlaced, `order ${orderId} was placed: cancel it to release its rewards`)
    const mine = ofOrder.filter((x) => x.customerId === customerId && asSeen(x))
    if (account.status === 'closed' || mine.length === 0) return []
    const { released } = await releaseReserved(deps, tx, account, mine, r.reason || NOT_PLACED, actor)
    await tx.voidRedemptions(released.map((x) => x.id))
    return released
  })
}

/** Cancel after a commit: releases what the commit reserved that is still RESERVED. */
export async function releaseCommit(
  deps: LoyaltyDeps,
  actor: Actor,
  customerId: string,
  requestId: string,
  reason: string,
): Promise<Redemption[]> {
  return deps.store.transaction(async (tx) => {
    const account = await lockedAccount(tx, customerId)
    if (account.status === 'closed') return []
    const mine = await tx.redemptionsByRequestPrefix(`${requestId}:`)
    return (await releaseReserved(deps, tx, account, mine, reason || 'checkout cancelled', actor)).released
  })
}
