import { Metadata, status as Code, type ServiceError } from '@grpc/grpc-js'
import { describe, expect, it, vi } from 'vitest'
import { AppError, type ErrorKind } from '../src/errors.ts'
import { errorReasonOf, fieldViolationsOf, toServiceError } from '../src/grpc/status.ts'
import { createLogger } from '../src/logger.ts'

const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const DETAILS_KEY = 'grpc-status-details-bin'

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code })

/** What a client sees: only the metadata of the status matters to fieldViolationsOf. */
const decode = (e: Partial<ServiceError>) => fieldViolationsOf({ metadata: e.metadata })

describe('toServiceError', () => {
  it.each([
    ['invalid', Code.INVALID_ARGUMENT],
    ['not_found', Code.NOT_FOUND],
    ['already_exists', Code.ALREADY_EXISTS],
    ['aborted', Code.ABORTED],
    ['precondition', Code.FAILED_PRECONDITION],
    ['unavailable', Code.UNAVAILABLE],
    ['resource_exhausted', Code.RESOURCE_EXHAUSTED],
  ] as [ErrorKind, Code][])('when an AppError of kind %s is thrown, then it maps to gRPC code %i with its message', (kind, code) => {
    const e = toServiceError(new AppError(kind, `a ${kind} happened`), log, {})
    expect(e.code).toBe(code)
    expect(e.details).toBe(`a ${kind} happened`)
  })

  it('when an error has field violations, then they round-trip through the status details', () => {
    const violations = [
      { field: 'email', description: 'must be an email address' },
      { field: 'preferences.likes[2]', description: 'must have at most 30 characters' },
    ]
    const e = toServiceError(new AppError('invalid', 'invalid request', violations), log, { rpc: 'CreateCustomer' })
    expect(e.code).toBe(Code.INVALID_ARGUMENT)
    expect(decode(e)).toEqual(violations)
  })

  it('when an already_exists error names a field, then the client can read that field', () => {
    const e = toServiceError(new AppError('already_exists', 'email taken', [{ field: 'email', description: 'email taken' }]), log, {})
    expect(e.code).toBe(Code.ALREADY_EXISTS)
    expect(decode(e).map((v) => v.field)).toEqual(['email'])
  })

  it('when an error has no violations, then no status details are attached', () => {
    const e = toServiceError(new AppError('not_found', 'customer x not found'), log, {})
    expect(e.metadata?.get(DETAILS_KEY)).toEqual([])
    expect(decode(e)).toEqual([])
  })

  it.each([
    ['PostgreSQL connection failure 08006', withCode('terminating connection', '08006')],
    ['PostgreSQL too many connections 53300', withCode('too many clients', '53300')],
    ['PostgreSQL admin shutdown 57P01', withCode('terminating connection due to administrator command', '57P01')],
    ['ECONNREFUSED', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['ETIMEDOUT', withCode('connect ETIMEDOUT', 'ETIMEDOUT')],
    ['a pool connection timeout', new Error('timeout exceeded when trying to connect')],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
  ])('when the cause is %s, then it maps to UNAVAILABLE without leaking the driver message', (_, err) => {
    const e = toServiceError(err, log, {})
    expect(e.code).toBe(Code.UNAVAILABLE)
    expect(e.details).not.toContain(err.message)
  })

  it.each(['40001', '40P01'])('when PostgreSQL reports SQLSTATE %s, then it maps to ABORTED to ask for a retry', (sqlState) => {
    const e = toServiceError(withCode('could not serialize access', sqlState), log, {})
    expect(e.code).toBe(Code.ABORTED)
    expect(e.details).toBe('concurrent modification, retry')
    expect(errorReasonOf(e)).toBe('CONCURRENT_MODIFICATION')
  })

  it('when PostgreSQL reports another SQLSTATE such as a unique violation, then it is INTERNAL', () => {
    expect(toServiceError(withCode('duplicate key value violates unique constraint', '23505'), log, {}).code).toBe(Code.INTERNAL)
  })

  it('when an unknown Error is thrown, then it is INTERNAL with generic details and nothing of its message', () => {
    const secret = new Error('password=hunter2 in connection string postgres://admin@db')
    const e = toServiceError(secret, log, {})
    expect(e.code).toBe(Code.INTERNAL)
    expect(e.details).toBe('internal error')
    expect(JSON.stringify(e)).not.toContain('hunter2')
    expect(decode(e)).toEqual([])
  })

  it('when a non-Error value is thrown, then it is INTERNAL', () => {
    expect(toServiceError('boom', log, {})).toEqual({ code: Code.INTERNAL, details: 'internal error' })
    expect(toServiceError(undefined, log, {}).code).toBe(Code.INTERNAL)
  })

  it('when an unknown error is mapped, then it is logged with its context', () => {
    const error = vi.spyOn(log, 'error')
    const err = new Error('bug')
    toServiceError(err, log, { rpc: 'GetCustomer' })
    expect(error).toHaveBeenCalledWith({ err, rpc: 'GetCustomer' }, 'unexpected error')
    error.mockRestore()
  })
})

describe('fieldViolationsOf', () => {
  it('when the error has no metadata, or none with details, then there are no violations', () => {
    expect(fieldViolationsOf(new Error('x'))).toEqual([])
    expect(fieldViolationsOf({ metadata: new Metadata() })).toEqual([])
  })
})
