import { credentials, status as Code, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js'
import { LoyaltyServiceClient, type RedeemRewardResponse } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { precondition } from '@brewmesh/runtime/errors.ts'
import type { Loyalty } from '../domain/ports.ts'
import { call, channelOptions, deadlineFor, dependencyError, type Dependency } from './outbound.ts'

const refused = (details: string) => precondition(`reward not redeemed: ${details}`)

/** The Loyalty service: reserves a reward's points against an order (RedeemReward is idempotent by request id, so it is retried). */
export function loyaltyClient(
  dep: Dependency,
  auth: Interceptor,
  channel: ChannelCredentials = credentials.createInsecure(),
): Loyalty & { close(): void } {
  const client = new LoyaltyServiceClient(dep.target, channel, {
    ...channelOptions('brewmesh.loyalty.v1.LoyaltyService', ['RedeemReward', 'QuoteRewards']),
    interceptors: [auth],
  })
  return {
    async redeem(request, budget) {
      try {
        const r = await call<RedeemRewardResponse>(
          (md, opts, cb) => client.redeemReward(request, md, opts, cb),
          deadlineFor(budget, dep.timeoutMs),
        )
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
      } catch (err) {
        throw dependencyError('loyalty', err, {
          [Code.NOT_FOUND]: refused,
          [Code.FAILED_PRECONDITION]: refused,
          [Code.INVALID_ARGUMENT]: refused,
          [Code.ALREADY_EXISTS]: refused,
        })
      }
    },
    close: () => client.close(),
  }
}
