import { AppError, notFound } from '@brewmesh/runtime/errors'
import {
  MAX_AMOUNT,
  type Account,
  type Actor,
  type EntryKind,
  type ExpiryInfo,
  type LedgerEntry,
  type LoyaltyChange,
  type Money,
  type Redemption,
} from './model.ts'
import type { Crossing, LoyaltyDeps, LoyaltyTx } from './ports.ts'
import { newlyAffordable, tierFor } from './rules.ts'

/** FAILED_PRECONDITION whose message starts with the contract's reason name (QuoteIssue / LedgerRefusal). */
export const refused = (reason: string, message: string) => new AppError('precondition', `${reason}: ${message}`, [], { reason })

export const accountClosed = (customerId: string) =>
  refused('LEDGER_REFUSAL_ACCOUNT_CLOSED', `the loyalty account of customer ${customerId} is closed`)

/**
 * Points an account can still take: its balance plus reserved points (a release moves reserved
 * points back into the balance) and its lifetime points each stay within MAX_AMOUNT.
 */
export const headroom = (account: Account) => MAX_AMOUNT - Math.max(account.balance + account.reserved, account.lifetime)

export const tooMany = (account: Account, points: number) =>
  refused(
    'LEDGER_REFUSAL_BALANCE_WOULD_EXCEED_MAXIMUM',
    `the account can take ${Math.max(0, headroom(account))} more points, not ${points} (balance and reserved, or lifetime, at most ${MAX_AMOUNT})`,
  )

/** One ledger line to append, and what it does to the account besides the balance. */
export interface Posting {
  kind: EntryKind
  /** Signed change to the balance. */
  points: number
  sourceId: string
  reason: string
  actor: Actor
  orderId?: string
  redemptionId?: string
  batchId?: string
  earnBasis?: Money
  multiplierPercent?: number
  reversesEntryId?: string
  requestHash?: string
  reservedDelta?: number
  lifetimeDelta?: number
  /** EARN, RESERVE and ADJUST count as activity (the expiry clock restarts). */
  activity?: boolean
  /** The redemption the entry is about (its event carries it). */
  redemption?: Redemption
  /** Writes `redemption` in the posting's own statement: a new one, or its new state. */
  writeRedemption?: 'insert' | 'update'
  expiry?: ExpiryInfo
}

export interface Posted {
  account: Account
  entry: LedgerEntry
  crossings: Crossing[]
}

/** Loads an account for change (locked); NOT_FOUND when there is none. */
export async function lockedAccount(tx: LoyaltyTx, customerId: string): Promise<Account> {
  return existing(await tx.account(customerId, true), customerId)
}

/** The account read, or NOT_FOUND when the customer has none. */
export function existing(account: Account | undefined, customerId: string): Account {
  if (!account) throw notFound('loyalty account of customer', customerId)
  return account
}

export function newAccount(customerId: string, now: Date, status: Account['status'] = 'open'): Account {
  return {
    customerId,
    status,
    balance: 0,
    reserved: 0,
    lifetime: 0,
    version: 1,
    lastActivityAt: null,
    openedAt: now,
    closedAt: status === 'closed' ? now : null,
    updatedAt: now,
  }
}

/**
 * Appends one entry to a locked account and records its event (and a TierChanged when lifetime
 * points cross a threshold). The balance never goes below zero (FAILED_PRECONDITION, nothing
 * written). Returns undefined when the entry's source was applied before: nothing changes.
 */
export async function post(deps: LoyaltyDeps, tx: LoyaltyTx, account: Account, p: Posting): Promise<Posted | undefined> {
  if (account.status === 'closed') throw accountClosed(account.customerId)
  const balance = account.balance + p.points
  if (balance < 0) {
    throw refused('LEDGER_REFUSAL_BALANCE_WOULD_BE_NEGATIVE', `balance ${account.balance} cannot go down by ${-p.points}`)
  }
  const reserved = account.reserved + (p.reservedDelta ?? 0)
  const lifetime = Math.max(0, account.lifetime + (p.lifetimeDelta ?? 0))
  // Both sides are within MAX_AMOUNT before, and a change is too, so these sums are exact.
  if (balance + reserved > MAX_AMOUNT || lifetime > MAX_AMOUNT) throw tooMany(account, p.points)
  const now = deps.clock()
  const entry: LedgerEntry = {
    id: deps.newId(),
    customerId: account.customerId,
    kind: p.kind,
    points: p.points,
    balanceAfter: balance,
    sourceId: p.sourceId,
    orderId: p.orderId ?? '',
    redemptionId: p.redemptionId ?? '',
    batchId: p.batchId ?? '',
    reason: p.reason,
    actor: p.actor,
    earnBasis: p.earnBasis ?? null,
    multiplierPercent: p.multiplierPercent ?? 0,
    reversesEntryId: p.reversesEntryId ?? '',
    requestHash: p.requestHash ?? '',
    createdAt: now,
  }
  const after: Account = {
    ...account,
    balance,
    reserved,
    lifetime,
    version: account.version + 1,
    lastActivityAt: p.activity ? now : account.lastActivityAt,
    updatedAt: now,
  }
  const [previousTier, tier] = [tierFor(deps.rules, account.lifetime), tierFor(deps.rules, after.lifetime)]
  const changes: LoyaltyChange[] = [
    {
      kind: 'entry',
      account: after,
      entry,
      tierBefore: previousTier,
      ...(p.redemption ? { redemption: p.redemption } : {}),
      ...(p.expiry ? { expiry: p.expiry } : {}),
    },
  ]
  let final = after
  if (previousTier !== tier) {
    final = { ...after, version: after.version + 1 }
    changes.push({ kind: 'tier_changed', account: final, previousTier, tier, entry })
  }
  const write = p.redemption && p.writeRedemption && { redemption: p.redemption, write: p.writeRedemption }
  if (!(await tx.postEntry(entry, final, changes, write))) return undefined
  const crossings =
    final.balance > account.balance || tier !== previousTier
      ? newlyAffordable(deps.rules, account, final, await deps.store.rewards()).map((r) => ({
          customerId: account.customerId,
          rewardId: r.id,
          entryId: entry.id,
        }))
      : []
  return { account: final, entry, crossings }
}

/** Runs a ledger transaction, then announces the reward crossings it made (after commit). */
export async function withCrossings<T>(deps: LoyaltyDeps, work: (crossings: Crossing[]) => Promise<T>): Promise<T> {
  const crossings: Crossing[] = []
  const result = await work(crossings)
  if (crossings.length > 0) await deps.announce(crossings)
  return result
}
