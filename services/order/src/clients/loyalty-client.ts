import { credentials, status as Code, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js'
import {
  LoyaltyServiceClient,
  type RedeemRewardResponse,
  type ReleaseRedemptionsResponse,
} from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { precondition } from '@brewmesh/runtime/errors.ts'
import type { Logger } from '@brewmesh/runtime/logger.ts'
import type { Loyalty } from '../domain/ports.ts'
import { channelOptions, outboundCalls, type Dependency } from './outbound.ts'

const refused = (details: string) => precondition(`reward not redeemed: ${details}`)

/**
 * The Loyalty service: reserves a reward's points against an order, and gives them back when the
 * placement fails. Both are idempotent (by request id, by order), so both are retried.
 */
export function loyaltyClient(
  dep: Dependency,
  auth: Interceptor,
  log: Logger,
  channel: ChannelCredentials = credentials.createInsecure(),
): Loyalty & { close(): void } {
  const client = new LoyaltyServiceClient(dep.target, channel, {
    ...channelOptions('brewmesh.loyalty.v1.LoyaltyService', ['RedeemReward', 'ReleaseRedemptions', 'QuoteRewards']),
    interceptors: [auth],
  })
  const loyalty = outboundCalls('loyalty', dep)
  return {
    async redeem(request, budget) {
      const r = await loyalty.call<RedeemRewardResponse>((md, opts, cb) => client.redeemReward(request, md, opts, cb), budget, {
        [Code.NOT_FOUND]: refused,
        [Code.FAILED_PRECONDITION]: refused,
        [Code.INVALID_ARGUMENT]: refused,
        [Code.ALREADY_EXISTS]: refused,
      })
      const red = r.redemption
      if (!red) throw new Error('RedeemReward answered without a redemption')
      return {
        rewardId: red.rewardId,
        redemptionId: red.id,
        rewardName: red.rewardName,
        discount: red.discount,
        pointsCost: red.points,
        lineIds: red.lineIds,
      }
    },
    async release(request, budget) {
      try {
        const r = await loyalty.call<ReleaseRedemptionsResponse>((md, opts, cb) => client.releaseRedemptions(request, md, opts, cb), budget)
        return r.released.length
      } catch (err) {
        log.warn({ orderId: request.orderId, err: (err as Error).message }, 'reservations not released; the hold period will release them')
        throw err
      }
    },
    close: () => client.close(),
  }
}
