import { notFound, Violations } from '@brewmesh/runtime/errors'
import type { Traced } from '@brewmesh/runtime/kafka'
import { checkUuid, uuidOf } from '@brewmesh/runtime/ids'
import { pageSize, pageTokens, positionOf } from '@brewmesh/runtime/paging'
import { newAccount } from './ledger.ts'
import { releaseReserved } from './redemptions.ts'
import { SYSTEM, type Account, type EntryKind, type LedgerEntry } from './model.ts'
import type { LoyaltyDeps, LoyaltyTx } from './ports.ts'

export async function getAccount(deps: LoyaltyDeps, customerId: string): Promise<Account> {
  const account = await deps.store.account(uuidOf(customerId, 'customer_id'))
  if (!account) throw notFound('loyalty account of customer', customerId)
  return account
}

export interface TransactionsRequest {
  customerId: string
  pageSize: number
  pageToken: string
  kinds: (EntryKind | undefined)[]
  orderId: string
  createdAfter: Date | undefined
  createdBefore: Date | undefined
}

/** Where a page of the ledger ended: the last entry's time and id (newest first). */
const entryPages = pageTokens((raw) => {
  const createdAt = positionOf.time(raw['t'])
  const id = positionOf.id(raw['id'])
  return createdAt && id ? { t: createdAt, id } : undefined
})

/** Newest first; the token pins the position, so entries written while paging appear on no page. */
export async function listTransactions(
  deps: LoyaltyDeps,
  r: TransactionsRequest,
): Promise<{ entries: LedgerEntry[]; nextPageToken: string }> {
  const v = new Violations()
  checkUuid(v, r.customerId, 'customer_id')
  r.kinds.forEach((k, i) => v.check(k !== undefined, `kinds[${i}]`, 'must be a known kind, not UNSPECIFIED'))
  if (r.createdAfter && r.createdBefore) v.check(r.createdAfter < r.createdBefore, 'created_before', 'must be after created_after')
  v.throwIfAny()
  const limit = pageSize(r.pageSize, 50, 500)
  const customerId = r.customerId.toLowerCase()
  const kinds = [...new Set(r.kinds as EntryKind[])].sort()
  const filters = [customerId, kinds, r.orderId, r.createdAfter?.toISOString(), r.createdBefore?.toISOString()]
  const position = entryPages.decode(r.pageToken, filters)
  await getAccount(deps, customerId)
  const entries = await deps.store.entries({
    customerId,
    limit: limit + 1,
    kinds,
    orderId: r.orderId || undefined,
    createdAfter: r.createdAfter,
    createdBefore: r.createdBefore,
    before: position && { createdAt: position.t, id: position.id },
  })
  const page = entries.slice(0, limit)
  const last = page.at(-1)
  const nextPageToken = entries.length > limit && last ? entryPages.encode({ t: last.createdAt, id: last.id }, filters) : ''
  return { entries: page, nextPageToken }
}

/**
 * The account of a customer seen in an event, opened when missing (order events may come before
 * the customer-created event, which travels on another topic).
 */
export async function ensureAccount(deps: LoyaltyDeps, tx: LoyaltyTx, customerId: string): Promise<Account> {
  const existing = await tx.account(customerId, true)
  if (existing) return existing
  const account = newAccount(customerId, deps.clock())
  await tx.insertAccount(account)
  await tx.record({ kind: 'opened', account })
  // Locks the row just inserted, like every other path.
  return (await tx.account(customerId, true))!
}

/**
 * From the customer-deleted event: releases RESERVED redemptions, then closes the account. The
 * ledger is kept for audit; no more entries are written. A customer never seen gets a closed
 * account, so later order events for them earn nothing.
 */
export async function closeAccount(deps: LoyaltyDeps, tx: LoyaltyTx, customerId: string, reason: string): Promise<void> {
  const now = deps.clock()
  let account = await tx.account(customerId, true)
  if (!account) {
    const closed = newAccount(customerId, now, 'closed')
    await tx.insertAccount(closed)
    await tx.record({ kind: 'closed', account: closed, reason })
    return
  }
  if (account.status === 'closed') return
  account = (await releaseReserved(deps, tx, account, await tx.reservedRedemptions(customerId), reason, SYSTEM('customer-events'))).account
  const closed: Account = { ...account, status: 'closed', closedAt: now, updatedAt: now, version: account.version + 1 }
  await tx.updateAccount(closed)
  await tx.record({ kind: 'closed', account: closed, reason })
}

export const CUSTOMER_CONSUMER = 'loyalty-customer-events'

/** What loyalty needs from a customer event (events/loyalty-inbox.consumer.ts decodes it). */
export interface CustomerFact {
  kind: 'created' | 'deleted'
  eventId: string
  customerId: string
}

/**
 * Applies a chunk of customer events in one transaction, each event once (the ids are recorded in
 * it), in arrival order, each in its own trace: created opens the account, deleted closes it.
 */
export async function applyCustomerFacts(deps: LoyaltyDeps, events: readonly Traced<CustomerFact>[]): Promise<void> {
  if (events.length === 0) return
  await deps.store.transaction(async (tx) => {
    const fresh = await tx.claimEvents(CUSTOMER_CONSUMER, events, (e) => e.value.eventId)
    await tx.lockAccounts(fresh.map((e) => e.value.customerId))
    for (const { value: fact, inTrace } of fresh) {
      await inTrace(() =>
        fact.kind === 'created' ? ensureAccount(deps, tx, fact.customerId) : closeAccount(deps, tx, fact.customerId, 'customer deleted'),
      )
    }
  })
}
