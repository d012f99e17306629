import type { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { Tier } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import {
  LedgerRefusal,
  type AdjustPointsBatchRequest,
  type LoyaltyServiceService,
} from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { invalid, type FieldViolation } from '@brewmesh/runtime/errors'
import { messageViolations, type Call, type Routes } from '@brewmesh/runtime/grpc'
import { uuidOf } from '@brewmesh/runtime/ids'
import type { FanOut } from '@brewmesh/runtime/streams'
import { getAccount, listTransactions } from '../domain/accounts.ts'
import { adjustPoints, adjustPointsBatch, type BatchMessage, type LedgerRefusal as Refusal } from '../domain/adjust.ts'
import type { Account, Actor } from '../domain/model.ts'
import type { LoyaltyDeps } from '../domain/ports.ts'
import { redeemReward, releaseUnplaced } from '../domain/redemptions.ts'
import { listRewards, quoteRewards } from '../domain/rewards.ts'
import { tierFor } from '../domain/rules.ts'
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
import { ACCESS } from './access.ts'
import { checkoutSession } from './checkout-session.ts'
import { watchAccount } from './watch-account.ts'

const REFUSAL: Record<Refusal, LedgerRefusal> = {
  balance_would_be_negative: LedgerRefusal.LEDGER_REFUSAL_BALANCE_WOULD_BE_NEGATIVE,
  balance_would_exceed_maximum: LedgerRefusal.LEDGER_REFUSAL_BALANCE_WOULD_EXCEED_MAXIMUM,
  account_not_found: LedgerRefusal.LEDGER_REFUSAL_ACCOUNT_NOT_FOUND,
  account_closed: LedgerRefusal.LEDGER_REFUSAL_ACCOUNT_CLOSED,
  invalid: LedgerRefusal.LEDGER_REFUSAL_INVALID,
  line_id_reused: LedgerRefusal.LEDGER_REFUSAL_LINE_ID_REUSED,
}

/** A line's field as the batch's failures name it: within the line ("reason", not "line.reason"). */
const withinLine = (v: FieldViolation): FieldViolation => ({ ...v, field: v.field.replace(/^line\./, '') })

/**
 * The upload as the domain reads it. A header the contract's limits refuse ends the call; a line
 * they refuse travels with its violations, to be reported as a failed line.
 */
async function* batchMessages(requests: AsyncIterable<AdjustPointsBatchRequest>): AsyncIterable<BatchMessage> {
  for await (const r of requests) {
    const m = r.message
    const refused = messageViolations(r)
    if (m?.$case === 'header') {
      if (refused.length > 0) throw invalid(refused)
      yield { header: { batchId: m.value.batchId, defaultReason: m.value.defaultReason } }
    } else if (m?.$case === 'line') {
      yield { line: { ...m.value, lineNumber: Number(m.value.lineNumber), refused: refused.map(withinLine) } }
    } else yield { empty: true }
  }
}

/** Who made a change, from the verified caller. */
const actorOf = (call: Call): Actor => ({ kind: call.caller.kind, id: call.caller.subject })

/** Most requests are about one customer's account: the target of the access rules. */
const aboutCustomer = (r: { customerId: string }) => ({ customerId: r.customerId.toLowerCase() })

/** LoyaltyService: one route per RPC (access rule, writes, handler). Errors map in runtime/grpc/status.ts. */
export function loyaltyRoutes(deps: LoyaltyDeps, accounts: FanOut<LoyaltyEvent>): Routes<typeof LoyaltyServiceService> {
  const account = (a: Account) => accountToProto(deps.rules, a)
  return {
    getAccount: {
      access: ACCESS.GetAccount,
      about: aboutCustomer,
      handle: async (r) => ({ account: account(await getAccount(deps, r.customerId)) }),
    },
    listTransactions: {
      access: ACCESS.ListTransactions,
      about: aboutCustomer,
      async handle(r) {
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
      },
    },
    listRewards: {
      access: ACCESS.ListRewards,
      // The catalog alone is for every signed-in caller; a customer's affordability is theirs only.
      about: 'handler',
      async handle(r, call) {
        const reader = call.caller.kind === 'customer' ? call.caller.subject : undefined
        call.authorize({ customerId: r.customerId ? r.customerId.toLowerCase() : reader })
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
          tier: page.account ? TIER_TO_PROTO[tierFor(deps.rules, page.account.lifetime)] : Tier.TIER_UNSPECIFIED,
        }
      },
    },
    quoteRewards: {
      access: ACCESS.QuoteRewards,
      about: aboutCustomer,
      handle: async (r) => ({ quote: quoteToProto(await quoteRewards(deps, r.customerId, cartFromProto(r.cart))) }),
    },
    redeemReward: {
      access: ACCESS.RedeemReward,
      about: aboutCustomer,
      write: true,
      async handle(r, call) {
        const redeemed = await redeemReward(deps, actorOf(call), { ...r, cart: cartFromProto(r.cart) })
        return { redemption: redemptionToProto(redeemed.redemption), account: account(redeemed.account) }
      },
    },
    releaseRedemptions: {
      access: ACCESS.ReleaseRedemptions,
      about: aboutCustomer,
      write: true,
      handle: async (r, call) => ({ released: (await releaseUnplaced(deps, actorOf(call), r)).map(redemptionToProto) }),
    },
    adjustPoints: {
      access: ACCESS.AdjustPoints,
      about: aboutCustomer,
      write: true,
      async handle(r, call) {
        const adjusted = await adjustPoints(deps, actorOf(call), r)
        return { entry: entryToProto(adjusted.entry), account: account(adjusted.account) }
      },
    },
    watchAccount: {
      access: ACCESS.WatchAccount,
      about: aboutCustomer,
      handle: (r, call) => watchAccount(deps, accounts, uuidOf(r.customerId, 'customer_id'), call.signal),
    },
    adjustPointsBatch: {
      access: ACCESS.AdjustPointsBatch,
      // Staff only: about no customer in particular (each line names its own).
      about: 'nobody',
      write: true,
      invalidMessages: 'deliver',
      async handle(requests, call) {
        const summary = await adjustPointsBatch(deps, actorOf(call), batchMessages(requests))
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
      },
    },
    checkoutSession: {
      access: ACCESS.CheckoutSession,
      // The Order Service only: the customer is in the open step, checked against the account there.
      about: 'nobody',
      write: true,
      // A step the limits refuse is answered with a step error; the session goes on.
      invalidMessages: 'deliver',
      handle: (requests, call) => checkoutSession(deps, actorOf(call), requests),
    },
  }
}
