import type { AdjustPointsBatchRequest, LoyaltyServiceServer } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { LedgerRefusal } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { authorize, type Target } from '@brewmesh/runtime/auth/access.ts'
import type { Principal } from '@brewmesh/runtime/auth/principal.ts'
import { callerOf, type CallAdapters, type CallContext } from '@brewmesh/runtime/grpc/calls.ts'
import type { RateLimiter } from '@brewmesh/runtime/rate-limit.ts'
import { getAccount, listTransactions } from '../domain/accounts.ts'
import { adjustPoints, adjustPointsBatch, type BatchMessage, type LedgerRefusal as Refusal } from '../domain/adjust.ts'
import type { Actor } from '../domain/model.ts'
import type { LoyaltyDeps } from '../domain/ports.ts'
import { redeemReward, releaseUnplaced } from '../domain/redemptions.ts'
import { listRewards, quoteRewards } from '../domain/rewards.ts'
import type { AccountBus } from '../events/account-bus.ts'
import {
  accountToProto,
  cartFromProto,
  entryKindFromProto,
  entryToProto,
  issueToProto,
  quoteToProto,
  redemptionToProto,
  rewardToProto,
  TIER_TO_PROTO,
} from '../proto/loyalty-mapper.ts'
import { tierFor } from '../domain/rules.ts'
import { ACCESS, type LoyaltyRpc } from './access.ts'
import { checkoutSessionHandler } from './checkout-session.ts'
import { watchAccount } from './watch-account.ts'

const actorOf = (p: Principal): Actor => ({ kind: p.kind, id: p.subject })

const REFUSAL: Record<Refusal, LedgerRefusal> = {
  balance_would_be_negative: LedgerRefusal.LEDGER_REFUSAL_BALANCE_WOULD_BE_NEGATIVE,
  account_not_found: LedgerRefusal.LEDGER_REFUSAL_ACCOUNT_NOT_FOUND,
  account_closed: LedgerRefusal.LEDGER_REFUSAL_ACCOUNT_CLOSED,
  invalid: LedgerRefusal.LEDGER_REFUSAL_INVALID,
  line_id_reused: LedgerRefusal.LEDGER_REFUSAL_LINE_ID_REUSED,
}

async function* batchMessages(requests: AsyncIterable<AdjustPointsBatchRequest>): AsyncIterable<BatchMessage> {
  for await (const r of requests) {
    const m = r.message
    if (m?.$case === 'header') yield { header: { batchId: m.value.batchId, defaultReason: m.value.defaultReason } }
    else if (m?.$case === 'line') yield { line: { ...m.value, lineNumber: Number(m.value.lineNumber) } }
    else yield { empty: true }
  }
}

/** LoyaltyService handlers: authorize, decode, call the use case, encode. Errors map in runtime/grpc/status.ts. */
export function loyaltyService(deps: LoyaltyDeps, bus: AccountBus, calls: CallAdapters, limitWrites: RateLimiter): LoyaltyServiceServer {
  const { unary } = calls
  const allow = (ctx: CallContext, rpc: LoyaltyRpc, target?: Target) => authorize(callerOf(ctx), ACCESS[rpc], target, rpc)
  /** Authorizes a write, then counts it against the caller's rate limit (services are exempt). */
  const allowWrite = async (ctx: CallContext, rpc: LoyaltyRpc, target?: Target) => {
    allow(ctx, rpc, target)
    await limitWrites(callerOf(ctx))
  }
  const about = (customerId: string): Target => ({ customerId: customerId.toLowerCase() })
  const account = (a: Parameters<typeof accountToProto>[1]) => accountToProto(deps.rules, a)

  return {
    getAccount: unary('GetAccount', async (r, ctx) => {
      allow(ctx, 'GetAccount', about(r.customerId))
      return { account: account(await getAccount(deps, r.customerId)) }
    }),
    listTransactions: unary('ListTransactions', async (r, ctx) => {
      allow(ctx, 'ListTransactions', about(r.customerId))
      const page = await listTransactions(deps, {
        customerId: r.customerId,
        pageSize: r.pageSize,
        pageToken: r.pageToken,
        kinds: r.kinds.map(entryKindFromProto),
        orderId: r.orderId.toLowerCase(),
        createdAfter: r.createdAfter,
        createdBefore: r.createdBefore,
      })
      return { entries: page.entries.map(entryToProto), nextPageToken: page.nextPageToken }
    }),
    listRewards: unary('ListRewards', async (r, ctx) => {
      // The catalog itself is for everyone signed in; a customer's affordability is self-only.
      if (r.customerId) allow(ctx, 'ListRewards', about(r.customerId))
      else callerOf(ctx)
      const page = await listRewards(deps, r)
      return {
        rewards: page.rewards.map((l) => ({
          reward: rewardToProto(l.reward),
          affordable: l.affordable,
          pointsShort: String(l.pointsShort),
          issue: issueToProto(l.issue),
        })),
        nextPageToken: page.nextPageToken,
        balance: String(page.account?.balance ?? 0),
        tier: page.account ? TIER_TO_PROTO[tierFor(deps.rules, page.account.lifetime)] : 0,
      }
    }),
    quoteRewards: unary('QuoteRewards', async (r, ctx) => {
      allow(ctx, 'QuoteRewards', about(r.customerId))
      return { quote: quoteToProto(await quoteRewards(deps, r.customerId, cartFromProto(r.cart))) }
    }),
    redeemReward: unary('RedeemReward', async (r, ctx) => {
      await allowWrite(ctx, 'RedeemReward', about(r.customerId))
      const redeemed = await redeemReward(deps, actorOf(callerOf(ctx)), { ...r, cart: cartFromProto(r.cart) })
      return { redemption: redemptionToProto(redeemed.redemption), account: account(redeemed.account) }
    }),
    releaseRedemptions: unary('ReleaseRedemptions', async (r, ctx) => {
      await allowWrite(ctx, 'ReleaseRedemptions', about(r.customerId))
      return { released: (await releaseUnplaced(deps, actorOf(callerOf(ctx)), r)).map(redemptionToProto) }
    }),
    adjustPoints: unary('AdjustPoints', async (r, ctx) => {
      await allowWrite(ctx, 'AdjustPoints', about(r.customerId))
      const adjusted = await adjustPoints(deps, actorOf(callerOf(ctx)), r)
      return { entry: entryToProto(adjusted.entry), account: account(adjusted.account) }
    }),
    watchAccount: calls.serverStream('WatchAccount', async (r, send, ctx) => {
      allow(ctx, 'WatchAccount', about(r.customerId))
      await watchAccount(deps, bus)(r, send, ctx)
    }),
    adjustPointsBatch: calls.clientStream('AdjustPointsBatch', async (requests, ctx) => {
      await allowWrite(ctx, 'AdjustPointsBatch')
      const summary = await adjustPointsBatch(deps, actorOf(callerOf(ctx)), batchMessages(requests))
      return {
        batchId: summary.batchId,
        received: String(summary.received),
        applied: String(summary.applied),
        duplicates: String(summary.duplicates),
        failed: String(summary.failed),
        netPoints: String(summary.netPoints),
        failures: summary.failures.map((f) => ({
          lineNumber: String(f.lineNumber),
          lineId: f.lineId,
          customerId: f.customerId,
          refusal: REFUSAL[f.refusal],
          reason: f.reason,
          fields: f.fields,
        })),
      }
    }),
    checkoutSession: calls.bidi('CheckoutSession', async (requests, send, ctx) => {
      await allowWrite(ctx, 'CheckoutSession')
      await checkoutSessionHandler(deps, actorOf(callerOf(ctx)))(requests, send, ctx)
    }),
  }
}
