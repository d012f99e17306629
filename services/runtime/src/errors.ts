/**
 * The error vocabulary every service speaks. Domain code throws these; one place
 * (grpc/status.ts) turns them into gRPC statuses. No transport imports here.
 */

export interface FieldViolation {
  field: string
  description: string
}

export type ErrorKind =
  | 'invalid'
  | 'not_found'
  | 'already_exists'
  | 'aborted'
  | 'precondition'
  | 'unavailable'
  | 'resource_exhausted'
  | 'unauthenticated'
  | 'permission_denied'

export class AppError extends Error {
  readonly kind: ErrorKind
  readonly violations: readonly FieldViolation[]
  /** When set, the caller may retry after this long (sent as google.rpc.RetryInfo). */
  readonly retryDelayMs: number | undefined
  /** A machine-readable reason, e.g. "LEDGER_REFUSAL_ACCOUNT_CLOSED" (sent as google.rpc.ErrorInfo). */
  readonly reason: string | undefined
  constructor(
    kind: ErrorKind,
    message: string,
    violations: readonly FieldViolation[] = [],
    options?: { cause?: unknown; retryDelayMs?: number; reason?: string },
  ) {
    super(message, options)
    this.name = 'AppError'
    this.kind = kind
    this.violations = violations
    this.retryDelayMs = options?.retryDelayMs
    this.reason = options?.reason
  }
}

export const invalid = (violations: FieldViolation[], message = 'invalid request') => new AppError('invalid', message, violations)
export const notFound = (what: string, id: string) => new AppError('not_found', `${what} ${id} not found`)
export const alreadyExists = (message: string, field?: string) =>
  new AppError('already_exists', message, field ? [{ field, description: message }] : [])
export const aborted = (message: string, reason?: string) => new AppError('aborted', message, [], reason ? { reason } : undefined)
export const precondition = (message: string, reason?: string) => new AppError('precondition', message, [], reason ? { reason } : undefined)
export const resourceExhausted = (message: string, retryDelayMs: number) =>
  new AppError('resource_exhausted', message, [], { retryDelayMs })
export const unauthenticated = (message: string) => new AppError('unauthenticated', message)
export const permissionDenied = (message: string) => new AppError('permission_denied', message)
export const unavailable = (message: string, cause?: unknown) => new AppError('unavailable', message, [], { cause })

/** Collects field violations, then throws one INVALID_ARGUMENT naming them all. */
export class Violations {
  readonly list: FieldViolation[] = []
  add(field: string, description: string): this {
    this.list.push({ field, description })
    return this
  }
  check(condition: boolean, field: string, description: string): this {
    if (!condition) this.add(field, description)
    return this
  }
  throwIfAny(message = 'invalid request'): void {
    if (this.list.length > 0) throw invalid(this.list, message)
  }
}
