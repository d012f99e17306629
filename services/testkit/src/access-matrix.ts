import { randomUUID } from 'node:crypto'
import { STAFF_ROLES } from '@brewmesh/runtime/auth'
import type { Rule } from '@brewmesh/runtime/grpc'
import { customer } from './principals.ts'
import type { TokenClaims } from './tokens.ts'

/** One caller of an RPC and whether the access rule lets it through. */
export interface AccessCase {
  who: string
  claims: TokenClaims
  allowed: boolean
}

const SERVICES = ['order', 'identity', 'loyalty', 'favorites', 'customer', 'unknown-service']

/**
 * Every kind of caller of an RPC about `subject` (a customer id), with the answer its access rule
 * gives: each staff role, each service identity, the subject themselves, a member of the same
 * household, and a stranger. Authorization tests run every case against the running service, so
 * a rule in the table and the service's behaviour cannot drift apart.
 */
export function accessCases(rule: Rule, subject: string, household: string): AccessCase[] {
  const staff = STAFF_ROLES.map((role) => ({
    who: `staff ${role}`,
    claims: { sub: `${role}-matrix`, roles: [role] },
    allowed: rule.staff?.includes(role) ?? false,
  }))
  const services = SERVICES.map((name) => ({
    who: `service ${name}`,
    claims: { sub: name, roles: ['service'] },
    allowed: rule.services?.includes(name) ?? false,
  }))
  const customers = [
    { who: 'the customer', claims: customer(subject, household), allowed: Boolean(rule.self) },
    { who: 'a household member', claims: customer(randomUUID(), household), allowed: Boolean(rule.household) },
    { who: 'a stranger', claims: customer(randomUUID(), randomUUID()), allowed: false },
  ]
  return [...staff, ...services, ...customers]
}
