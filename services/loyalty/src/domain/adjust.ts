import { createHash } from 'node:crypto'
import { AppError, invalid, Violations, type FieldViolation } from '@brewmesh/runtime/errors'
import { checkUuid } from '@brewmesh/runtime/ids'
import { accountClosed, headroom, lockedAccount, post, tooMany, withCrossings } from './ledger.ts'
import type { Account, Actor, LedgerEntry } from './model.ts'
import type { LoyaltyDeps } from './ports.ts'
import { concurrentModification } from './reasons.ts'
import { checkText, NON_ZERO_POINTS, parsePoints } from './validation.ts'

export interface AdjustRequest {
  requestId: string
  customerId: string
  points: string
  reason: string
}

const hashOf = (customerId: string, points: number, reason: string) =>
  createHash('sha256')
    .update(JSON.stringify([customerId, points, reason]))
    .digest('hex')

/**
 * An operator's ADJUST entry. request_id is the entry's source: a retry returns the entry written
 * first; the same key for a different adjustment is INVALID_ARGUMENT. Lifetime points move with
 * the adjustment (so may the tier); the balance never goes below zero.
 */
export async function adjustPoints(deps: LoyaltyDeps, actor: Actor, r: AdjustRequest): Promise<{ entry: LedgerEntry; account: Account }> {
  const v = new Violations()
  checkText(v, r.requestId, 'request_id', 128)
  checkUuid(v, r.customerId, 'customer_id')
  const points = parsePoints(r.points)
  v.check(points !== undefined && points !== 0, 'points', NON_ZERO_POINTS)
  checkText(v, r.reason.trim(), 'reason', 500)
  v.throwIfAny()
  const customerId = r.customerId.toLowerCase()
  const reason = r.reason.trim()
  const hash = hashOf(customerId, points!, reason)
  return withCrossings(deps, (crossings) =>
    deps.store.transaction(async (tx) => {
      const account = await lockedAccount(tx, customerId)
      const earlier = await tx.entryBySource(customerId, 'adjust', r.requestId)
      if (earlier) {
        if (earlier.requestHash !== hash)
          throw invalid([{ field: 'request_id', description: 'was already used for a different adjustment' }])
        return { entry: earlier, account }
      }
      const posted = await post(deps, tx, account, {
        kind: 'adjust',
        points: points!,
        lifetimeDelta: points!,
        sourceId: r.requestId,
        reason,
        actor,
        requestHash: hash,
        activity: true,
      })
      if (!posted) throw concurrentModification('a concurrent adjustment with this request_id won; retry')
      crossings.push(...posted.crossings)
      return { entry: posted.entry, account: posted.account }
    }),
  )
}

export type LedgerRefusal =
  'balance_would_be_negative' | 'balance_would_exceed_maximum' | 'account_not_found' | 'account_closed' | 'invalid' | 'line_id_reused'

export interface BatchLine {
  lineNumber: number
  lineId: string
  customerId: string
  points: string
  reason: string
  /** What the contract's limits refused in this line (a NUL, an overlong reason), named within the line: reported, not applied. */
  refused?: readonly FieldViolation[]
}

export type BatchMessage = { header: { batchId: string; defaultReason: string } } | { line: BatchLine } | { empty: true }

export interface BatchFailure {
  lineNumber: number
  lineId: string
  customerId: string
  refusal: LedgerRefusal
  reason: string
  fields: string[]
}

export interface BatchSummary {
  batchId: string
  received: number
  applied: number
  duplicates: number
  failed: number
  /** Exact: the lines' points, each within MAX_AMOUNT, may add up past it. */
  netPoints: bigint
  failures: BatchFailure[]
}

export const MAX_BATCH_LINES = 10_000
const MAX_REPORTED_FAILURES = 1000

/**
 * AdjustPointsBatch: a header, then lines, each applied on its own transaction in stream order.
 * line_id is the entry's source, so a retried stream counts lines already applied as duplicates.
 * A bad line is reported and skipped; only a bad header, too many lines or an infrastructure
 * failure ends the call.
 */
export async function adjustPointsBatch(deps: LoyaltyDeps, actor: Actor, messages: AsyncIterable<BatchMessage>): Promise<BatchSummary> {
  let header: { batchId: string; defaultReason: string } | undefined
  const summary: BatchSummary = { batchId: '', received: 0, applied: 0, duplicates: 0, failed: 0, netPoints: 0n, failures: [] }
  for await (const message of messages) {
    if ('header' in message) {
      if (header) throw invalid([{ field: 'header', description: 'must be sent exactly once, first' }])
      const v = new Violations()
      checkUuid(v, message.header.batchId, 'header.batch_id')
      checkText(v, message.header.defaultReason.trim(), 'header.default_reason', 500, false)
      v.throwIfAny()
      header = { batchId: message.header.batchId.toLowerCase(), defaultReason: message.header.defaultReason.trim() }
      summary.batchId = header.batchId
      continue
    }
    if (!header) throw invalid([{ field: 'header', description: 'must come first' }])
    if (!('line' in message)) throw invalid([{ field: 'message', description: 'send a header or a line' }])
    summary.received += 1
    if (summary.received > MAX_BATCH_LINES) throw invalid([{ field: 'line', description: `at most ${MAX_BATCH_LINES} lines per batch` }])
    // A line number the caller set is echoed back as it came: 1 to MAX_AMOUNT, else the server counts.
    const numbered = Number.isSafeInteger(message.line.lineNumber) && message.line.lineNumber > 0
    const line = { ...message.line, lineNumber: numbered ? message.line.lineNumber : summary.received }
    const outcome = await applyLine(deps, actor, header, line)
    if (outcome.kind === 'applied') {
      summary.applied += 1
      summary.netPoints += BigInt(outcome.points)
    } else if (outcome.kind === 'duplicate') {
      summary.duplicates += 1
    } else {
      summary.failed += 1
      if (summary.failures.length < MAX_REPORTED_FAILURES) summary.failures.push(outcome.failure)
    }
  }
  if (!header) throw invalid([{ field: 'header', description: 'is required' }])
  if (summary.received === 0) throw invalid([{ field: 'line', description: 'send at least one line' }])
  return summary
}

type LineOutcome = { kind: 'applied'; points: number } | { kind: 'duplicate' } | { kind: 'failed'; failure: BatchFailure }

async function applyLine(
  deps: LoyaltyDeps,
  actor: Actor,
  header: { batchId: string; defaultReason: string },
  line: BatchLine,
): Promise<LineOutcome> {
  // A value the limits refused is not echoed back in the failure.
  const refused = new Set((line.refused ?? []).map((r) => r.field))
  const fail = (refusal: LedgerRefusal, reason: string, fields: string[] = []): LineOutcome => ({
    kind: 'failed',
    failure: {
      lineNumber: line.lineNumber,
      lineId: refused.has('line_id') ? '' : line.lineId,
      customerId: refused.has('customer_id') ? '' : line.customerId,
      refusal,
      reason,
      fields,
    },
  })
  const v = new Violations()
  for (const r of line.refused ?? []) v.add(r.field, r.description)
  const points = parsePoints(line.points)
  const reason = line.reason.trim() || header.defaultReason
  if (refused.size === 0) {
    checkText(v, line.lineId, 'line_id', 128)
    checkUuid(v, line.customerId, 'customer_id')
    v.check(points !== undefined && points !== 0, 'points', NON_ZERO_POINTS)
    checkText(v, reason, 'reason', 500)
  }
  if (v.list.length > 0)
    return fail(
      'invalid',
      v.list.map((x) => `${x.field} ${x.description}`).join('; '),
      v.list.map((x) => x.field),
    )
  const customerId = line.customerId.toLowerCase()
  const hash = hashOf(customerId, points!, reason)
  try {
    return await withCrossings(deps, (crossings) =>
      deps.store.transaction(async (tx): Promise<LineOutcome> => {
        const account = await tx.account(customerId, true)
        if (!account) return fail('account_not_found', `customer ${customerId} has no loyalty account`)
        const earlier = await tx.entryBySource(customerId, 'adjust', line.lineId)
        if (earlier)
          return earlier.requestHash === hash ? { kind: 'duplicate' } : fail('line_id_reused', 'line_id was used for a different line')
        if (account.status === 'closed') return fail('account_closed', accountClosed(customerId).message)
        if (account.balance + points! < 0)
          return fail('balance_would_be_negative', `balance ${account.balance} cannot go down by ${-points!}`)
        if (points! > headroom(account)) return fail('balance_would_exceed_maximum', tooMany(account, points!).message)
        const posted = await post(deps, tx, account, {
          kind: 'adjust',
          points: points!,
          lifetimeDelta: points!,
          sourceId: line.lineId,
          batchId: header.batchId,
          reason,
          actor,
          requestHash: hash,
          activity: true,
        })
        if (!posted) return { kind: 'duplicate' }
        crossings.push(...posted.crossings)
        return { kind: 'applied', points: points! }
      }),
    )
  } catch (err) {
    if (err instanceof AppError && err.kind === 'aborted') return applyLine(deps, actor, header, line)
    throw err
  }
}
