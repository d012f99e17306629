import { permissionDenied } from '../errors.ts'
import type { Principal, StaffRole } from './principal.ts'

/**
 * One authorization rule per RPC, written as data in each service's access table:
 *   self       the customer the request is about
 *   household  a customer of the same household as the one the request is about
 *   staff      the staff roles allowed
 *   services   the service identities allowed (e.g. "order")
 */
export interface Rule {
  self?: boolean
  household?: boolean
  staff?: readonly StaffRole[]
  services?: readonly string[]
}

/** What the request is about, as far as the rule needs it. */
export interface Target {
  customerId?: string | undefined
  householdId?: string | undefined
}

/** Throws PERMISSION_DENIED unless the rule lets this principal act on the target. */
export function authorize(principal: Principal, rule: Rule, target: Target = {}, action = 'this call'): void {
  if (allowed(principal, rule, target)) return
  throw permissionDenied(`${principal.kind} ${principal.subject} may not make ${action}`)
}

export function allowed(principal: Principal, rule: Rule, target: Target = {}): boolean {
  switch (principal.kind) {
    case 'service':
      return rule.services?.includes(principal.subject) ?? false
    case 'staff':
      return rule.staff?.some((role) => principal.roles.has(role)) ?? false
    case 'customer': {
      const customerId = target.customerId?.toLowerCase()
      const householdId = target.householdId?.toLowerCase()
      if (rule.self && customerId !== undefined && customerId === principal.subject) return true
      return Boolean(rule.household && householdId && principal.householdId && householdId === principal.householdId)
    }
  }
}
