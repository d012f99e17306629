import { AppError, type FieldViolation } from '@brewmesh/runtime/errors'
import { UPDATABLE_FIELDS, type Customer, type ProfileInput } from './customer.ts'
import { newCustomer } from './customers.ts'
import { customerChanges } from './field-changes.ts'
import type { CustomerDeps, CustomerTx } from './ports.ts'
import { normalizeProfile, profileViolations } from './validation.ts'

export interface ImportRow {
  /** 0: numbered by arrival. */
  rowNumber: number
  profile: ProfileInput
  /** What the contract's limits refused in this row (a NUL byte, an overlong name): reported, not imported. */
  refused?: readonly FieldViolation[]
}

export interface ImportSummary {
  received: number
  created: number
  updated: number
  unchanged: number
  failed: number
  failures: { rowNumber: number; reason: string; fields: string[] }[]
}

export const MAX_REPORTED_FAILURES = 1000
/** Rows applied per transaction: one commit per chunk instead of per row; memory stays bounded. */
export const IMPORT_CHUNK = 200

type Outcome = 'created' | 'updated' | 'unchanged'

/**
 * Applies rows as they stream in, a chunk per transaction, each row in its own savepoint: a bad
 * row is reported and rolled back alone, never undoing or stopping the others. Memory holds one
 * chunk whatever the row count. An infrastructure failure ends the import (rows of earlier,
 * committed chunks stay applied; the summary is not sent, so the caller retries, and rows that
 * match are then unchanged).
 */
export async function importCustomers(deps: CustomerDeps, rows: AsyncIterable<ImportRow>): Promise<ImportSummary> {
  const summary: ImportSummary = { received: 0, created: 0, updated: 0, unchanged: 0, failed: 0, failures: [] }
  const fail = (rowNumber: number, err: AppError) => {
    summary.failed += 1
    if (summary.failures.length >= MAX_REPORTED_FAILURES) return
    const fields = err.violations.map((v) => v.field)
    const reason = err.violations.length > 0 ? err.violations.map((v) => `${v.field} ${v.description}`).join('; ') : err.message
    summary.failures.push({ rowNumber, reason, fields })
  }

  let chunk: { rowNumber: number; input: ProfileInput }[] = []
  const flush = async () => {
    if (chunk.length === 0) return
    const rowsOfChunk = chunk
    chunk = []
    const changed: string[] = []
    const outcomes = await deps.store.transaction(async (tx) => {
      const results: { rowNumber: number; outcome?: Outcome; error?: AppError }[] = []
      for (const row of rowsOfChunk) {
        try {
          const { outcome, id } = await tx.savepoint(() => applyRow(deps, tx, row.input))
          if (outcome !== 'unchanged') changed.push(id)
          results.push({ rowNumber: row.rowNumber, outcome })
        } catch (err) {
          if (!(err instanceof AppError) || err.kind === 'unavailable') throw err
          results.push({ rowNumber: row.rowNumber, error: err })
        }
      }
      return results
    })
    for (const r of outcomes) {
      if (r.outcome) summary[r.outcome] += 1
      else if (r.error) fail(r.rowNumber, r.error)
    }
    for (const id of changed) await deps.cache.delete(id)
  }

  for await (const row of rows) {
    summary.received += 1
    const rowNumber = row.rowNumber || summary.received
    if (row.refused?.length) {
      fail(rowNumber, new AppError('invalid', 'invalid row', row.refused))
      continue
    }
    const input = normalizeProfile(row.profile)
    const violations = profileViolations(input, deps.enums)
    if (violations.list.length > 0) {
      fail(rowNumber, new AppError('invalid', 'invalid row', violations.list))
      continue
    }
    chunk.push({ rowNumber, input })
    if (chunk.length >= IMPORT_CHUNK) await flush()
  }
  await flush()
  return summary
}

async function applyRow(deps: CustomerDeps, tx: CustomerTx, input: ProfileInput): Promise<{ outcome: Outcome; id: string }> {
  const match = await tx.matchForImport(input.email, input.username)
  if (!match) {
    const customer = newCustomer(input, deps.newId(), deps.clock())
    await tx.insertCustomer(customer)
    await tx.record({ kind: 'created', customer })
    return { outcome: 'created', id: customer.id }
  }
  const current = (await tx.customer(match.id, 'for_update')) ?? match
  const next: Customer = {
    ...current,
    username: input.username,
    displayName: input.displayName,
    firstName: input.firstName,
    lastName: input.lastName,
    email: input.email,
    phone: input.phone || null,
    preferences: input.preferences ?? current.preferences,
    dietaryRestrictions: input.dietaryRestrictions,
    householdId: input.householdId || null,
  }
  const changes = customerChanges(current, next, UPDATABLE_FIELDS, deps.enums)
  if (changes.length === 0) return { outcome: 'unchanged', id: current.id }
  const updated = { ...next, version: current.version + 1, updatedAt: deps.clock() }
  await tx.updateCustomer(updated)
  await tx.record({ kind: 'updated', customer: updated, changes })
  return { outcome: 'updated', id: current.id }
}
