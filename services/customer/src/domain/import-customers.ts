import { AppError } from '@brewmesh/runtime/errors.ts'
import { UPDATABLE_FIELDS, type Customer, type ProfileInput } from './customer.ts'
import { newCustomer } from './customers.ts'
import { customerChanges } from './field-changes.ts'
import type { CustomerDeps } from './ports.ts'
import { normalizeProfile, profileViolations } from './validation.ts'

export interface ImportRow {
  /** 0: numbered by arrival. */
  rowNumber: number
  profile: ProfileInput
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

/**
 * Applies rows one at a time as they stream in (memory stays flat whatever the row count).
 * Each row is its own transaction, so one bad row never undoes or stops the others.
 */
export async function importCustomers(deps: CustomerDeps, rows: AsyncIterable<ImportRow>): Promise<ImportSummary> {
  const summary: ImportSummary = { received: 0, created: 0, updated: 0, unchanged: 0, failed: 0, failures: [] }
  for await (const row of rows) {
    summary.received += 1
    const rowNumber = row.rowNumber || summary.received
    try {
      const outcome = await importRow(deps, row.profile)
      summary[outcome] += 1
    } catch (err) {
      if (!(err instanceof AppError) || err.kind === 'unavailable') throw err
      summary.failed += 1
      if (summary.failures.length < MAX_REPORTED_FAILURES) {
        const fields = err.violations.map((v) => v.field)
        const reason = err.violations.length > 0 ? err.violations.map((v) => `${v.field} ${v.description}`).join('; ') : err.message
        summary.failures.push({ rowNumber, reason, fields })
      }
    }
  }
  return summary
}

async function importRow(deps: CustomerDeps, raw: ProfileInput): Promise<'created' | 'updated' | 'unchanged'> {
  const input = normalizeProfile(raw)
  profileViolations(input).throwIfAny()
  const result = await deps.store.transaction(async (tx) => {
    const match = await tx.matchForImport(input.email, input.username)
    if (!match) {
      const customer = newCustomer(input, deps.newId(), deps.clock())
      await tx.insertCustomer(customer)
      await tx.record({ kind: 'created', customer })
      return { outcome: 'created' as const, id: customer.id }
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
    const changes = customerChanges(current, next, UPDATABLE_FIELDS)
    if (changes.length === 0) return { outcome: 'unchanged' as const, id: current.id }
    const updated = { ...next, version: current.version + 1, updatedAt: deps.clock() }
    await tx.updateCustomer(updated)
    await tx.record({ kind: 'updated', customer: updated, changes })
    return { outcome: 'updated' as const, id: current.id }
  })
  if (result.outcome !== 'unchanged') await deps.cache.delete(result.id)
  return result.outcome
}
