import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import type { OutboxMessage } from '@brewmesh/runtime/db'
import { eventEnvelope } from '@brewmesh/runtime/kafka'
import type { LedgerEntry, LoyaltyChange } from '../domain/model.ts'
import type { LoyaltyRules } from '../domain/rules.ts'
import { accountToProto, actorToProto, moneyToProto, TIER_TO_PROTO } from '../proto/loyalty-mapper.ts'

type Payload = NonNullable<LoyaltyEvent['payload']>

const TYPE_NAMES: Record<Payload['$case'], string> = {
  accountOpened: 'brewmesh.loyalty.v1.AccountOpened',
  accountClosed: 'brewmesh.loyalty.v1.AccountClosed',
  pointsEarned: 'brewmesh.loyalty.v1.PointsEarned',
  pointsRedeemed: 'brewmesh.loyalty.v1.PointsRedeemed',
  redemptionConfirmed: 'brewmesh.loyalty.v1.RedemptionConfirmed',
  redemptionReleased: 'brewmesh.loyalty.v1.RedemptionReleased',
  pointsExpired: 'brewmesh.loyalty.v1.PointsExpired',
  pointsReversed: 'brewmesh.loyalty.v1.PointsReversed',
  pointsAdjusted: 'brewmesh.loyalty.v1.PointsAdjusted',
  tierChanged: 'brewmesh.loyalty.v1.TierChanged',
  rewardAvailable: 'brewmesh.loyalty.v1.RewardAvailable',
}

const s = (n: number) => String(n)

function entryPayload(change: Extract<LoyaltyChange, { kind: 'entry' }>): Payload {
  const { account, entry, redemption } = change
  const e: LedgerEntry = entry
  const balance = s(account.balance)
  const reservedPoints = s(account.reserved)
  switch (e.kind) {
    case 'earn':
      return {
        $case: 'pointsEarned',
        value: {
          orderId: e.orderId,
          points: s(e.points),
          multiplierPercent: e.multiplierPercent,
          // The multiplier came from the tier before the earn.
          tier: TIER_TO_PROTO[change.tierBefore ?? 'bronze'],
          earnBasis: e.earnBasis ? moneyToProto(e.earnBasis) : undefined,
          entryId: e.id,
          balance,
          lifetimePoints: s(account.lifetime),
        },
      }
    case 'reserve':
      return {
        $case: 'pointsRedeemed',
        value: {
          redemptionId: e.redemptionId,
          rewardId: redemption?.rewardId ?? '',
          rewardName: redemption?.rewardName ?? '',
          orderId: e.orderId,
          points: s(-e.points),
          discount: redemption ? moneyToProto(redemption.discount) : undefined,
          entryId: e.id,
          balance,
          reservedPoints,
        },
      }
    case 'confirm':
      return {
        $case: 'redemptionConfirmed',
        value: {
          redemptionId: e.redemptionId,
          rewardId: redemption?.rewardId ?? '',
          orderId: e.orderId,
          points: s(redemption?.points ?? 0),
          entryId: e.id,
          balance,
          reservedPoints,
        },
      }
    case 'release':
      return {
        $case: 'redemptionReleased',
        value: {
          redemptionId: e.redemptionId,
          rewardId: redemption?.rewardId ?? '',
          orderId: e.orderId,
          points: s(e.points),
          reason: e.reason,
          entryId: e.id,
          balance,
          reservedPoints,
        },
      }
    case 'expire':
      return {
        $case: 'pointsExpired',
        value: {
          points: s(-e.points),
          period: change.expiry?.period ?? '',
          inactiveSince: change.expiry?.inactiveSince,
          inactivityPeriod: change.expiry ? { seconds: s(change.expiry.inactivityDays * 86_400), nanos: 0 } : undefined,
          expiredAt: change.expiry?.expiredAt,
          entryId: e.id,
          balance,
        },
      }
    case 'reverse':
      return {
        $case: 'pointsReversed',
        value: {
          orderId: e.orderId,
          points: s(-e.points),
          reversesEntryId: e.reversesEntryId,
          entryId: e.id,
          balance,
          lifetimePoints: s(account.lifetime),
        },
      }
    case 'adjust':
      return {
        $case: 'pointsAdjusted',
        value: {
          points: s(e.points),
          reason: e.reason,
          actor: actorToProto(e.actor),
          batchId: e.batchId,
          entryId: e.id,
          balance,
          lifetimePoints: s(account.lifetime),
        },
      }
  }
}

function payloadOf(rules: LoyaltyRules, change: LoyaltyChange): Payload {
  switch (change.kind) {
    case 'opened':
      return { $case: 'accountOpened', value: { account: accountToProto(rules, change.account), balance: s(change.account.balance) } }
    case 'closed':
      return {
        $case: 'accountClosed',
        value: { account: accountToProto(rules, change.account), balance: s(change.account.balance), reason: change.reason },
      }
    case 'entry':
      return entryPayload(change)
    case 'tier_changed':
      return {
        $case: 'tierChanged',
        value: {
          previousTier: TIER_TO_PROTO[change.previousTier],
          tier: TIER_TO_PROTO[change.tier],
          lifetimePoints: s(change.account.lifetime),
          balance: s(change.account.balance),
          entryId: change.entry.id,
        },
      }
    case 'reward_available':
      return {
        $case: 'rewardAvailable',
        value: {
          rewardId: change.reward.id,
          name: change.reward.name,
          costPoints: s(change.reward.costPoints),
          balance: s(change.account.balance),
        },
      }
  }
}

/** A domain change as the protobuf event and Kafka headers the outbox relay publishes (key: customer id). */
export function toOutboxMessage(topic: string, rules: LoyaltyRules, change: LoyaltyChange, now: Date): OutboxMessage {
  const payload = payloadOf(rules, change)
  const { metadata, headers } = eventEnvelope('loyalty', TYPE_NAMES[payload.$case], now)
  const event: LoyaltyEvent = { metadata, customerId: change.account.customerId, version: s(change.account.version), payload }
  return { topic, key: change.account.customerId, payload: LoyaltyEvent.encode(event).finish(), headers: { ...headers } }
}
