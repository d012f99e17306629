/** Who is calling, as established from a verified token. No transport types here. */

export const STAFF_ROLES = ['barista', 'support', 'operator'] as const
export type StaffRole = (typeof STAFF_ROLES)[number]

export type Principal =
  /** A customer acting for themselves; subject = customer id. */
  | { kind: 'customer'; subject: string; householdId: string | undefined }
  /** A staff member with one or more roles. */
  | { kind: 'staff'; subject: string; roles: ReadonlySet<StaffRole> }
  /** Another brewmesh service with its own identity, e.g. "order". */
  | { kind: 'service'; subject: string }

/** Claims brewmesh reads from a token: `sub`, `roles` (array), `household_id` (customers). */
export function principalFromClaims(claims: Record<string, unknown>): Principal | undefined {
  const subject = typeof claims['sub'] === 'string' ? claims['sub'] : ''
  const roles = Array.isArray(claims['roles']) ? claims['roles'].filter((r): r is string => typeof r === 'string') : []
  if (!subject || roles.length === 0) return undefined
  if (roles.includes('service')) return { kind: 'service', subject }
  const staff = roles.filter((r): r is StaffRole => (STAFF_ROLES as readonly string[]).includes(r))
  if (staff.length > 0) return { kind: 'staff', subject, roles: new Set(staff) }
  if (roles.includes('customer')) {
    const household = typeof claims['household_id'] === 'string' && claims['household_id'] ? claims['household_id'] : undefined
    return { kind: 'customer', subject: subject.toLowerCase(), householdId: household?.toLowerCase() }
  }
  return undefined
}

/** How a log line names a caller (never the token). */
export const describePrincipal = (p: Principal) => `${p.kind}:${p.subject}`
