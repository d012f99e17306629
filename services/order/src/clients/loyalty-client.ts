import { status as Code, type ServiceError } from '@grpc/grpc-js'
import { LoyaltyServiceService } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { precondition } from '@brewmesh/runtime/errors'
import { errorReasonOf } from '@brewmesh/sdk/errors.ts'
import type { Logger } from '@brewmesh/runtime/logger'
import type { Cart as CartMessage } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import type { Cart, Loyalty } from '../domain/ports.ts'
import { REASON } from '../domain/reasons.ts'
import { money } from '../proto/order-mapper.ts'
import type { Outbound } from '@brewmesh/runtime/auth'
import { connect, type Dependency } from './dependency.ts'

/**
 * A reward the Loyalty service refused: FAILED_PRECONDITION for our caller, with Loyalty's own
 * ErrorInfo reason passed on (e.g. QUOTE_ISSUE_INSUFFICIENT_POINTS), REWARD_NOT_REDEEMED when it
 * gave none. The message names the reward, never repeats Loyalty's text.
 */
const refused = (rewardId: string) => (err: ServiceError) =>
  precondition(`the Loyalty service did not redeem reward ${rewardId}`, errorReasonOf(err) ?? REASON.rewardNotRedeemed)

/** The order's lines as the Loyalty service prices rewards against them. */
const cartToProto = ({ lines, currency }: Cart): CartMessage => ({
  items: lines.map((l) => ({
    lineId: l.id,
    menuItemId: l.menuItemId,
    name: l.menuItemName,
    category: l.category,
    customization: l.customization,
    quantity: l.quantity,
    unitPrice: money(l.unitPrice, currency),
    lineTotal: money(l.lineTotal, currency),
  })),
  subtotal: money(
    lines.reduce((s, l) => s + l.lineTotal, 0),
    currency,
  ),
  chosenRewardIds: [],
})

/**
 * The Loyalty service: reserves a reward's points against an order, and gives them back when the
 * placement fails. Both are idempotent (by request id, by order), so both are retried.
 */
export function loyaltyClient(dep: Dependency, outbound: Outbound, log: Logger): Loyalty & { close(): void } {
  const { client, calls } = connect('loyalty', LoyaltyServiceService, dep, outbound, ['redeemReward', 'releaseRedemptions', 'quoteRewards'])
  return {
    async redeem(request, budget) {
      const r = await calls.call((options) => client.redeemReward({ ...request, cart: cartToProto(request.cart) }, options), budget, {
        [Code.NOT_FOUND]: refused(request.rewardId),
        [Code.FAILED_PRECONDITION]: refused(request.rewardId),
        [Code.INVALID_ARGUMENT]: refused(request.rewardId),
        [Code.ALREADY_EXISTS]: refused(request.rewardId),
      })
      const red = r.redemption
      if (!red) throw new Error('RedeemReward answered without a redemption')
      const reward = {
        rewardId: red.rewardId,
        redemptionId: red.id,
        rewardName: red.rewardName,
        discount: Number(red.discount?.amountMinor ?? 0),
        pointsCost: red.points,
        lineIds: red.lineIds,
      }
      return { reward, claim: red.claim }
    },
    async release(request, budget) {
      try {
        const r = await calls.call((options) => client.releaseRedemptions(request, options), budget)
        return r.released.length
      } catch (err) {
        log.warn({ orderId: request.orderId, err: (err as Error).message }, 'reservations not released; the hold period will release them')
        throw err
      }
    },
    close: () => client.close(),
  }
}
