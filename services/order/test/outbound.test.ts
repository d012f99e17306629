import { Metadata, status, type ServiceError } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { AppError, resourceExhausted } from '@brewmesh/runtime/errors'
import { toServiceError } from '@brewmesh/runtime/grpc/status.ts'
import { createLogger } from '@brewmesh/runtime/logger'
import { dependencyCalls, dependencyError } from '../src/clients/dependency.ts'

const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })

/** The error a grpc-js client sees when a server answered with `err` (an AppError). */
function answered(err: AppError): ServiceError {
  const s = toServiceError(err, log, {})
  return Object.assign(new Error(s.details), { code: s.code!, details: s.details!, metadata: s.metadata ?? new Metadata() })
}

describe('a dependency failure, in the Order Service vocabulary', () => {
  it('when the dependency sheds load, then the caller gets RESOURCE_EXHAUSTED with the same retry delay', () => {
    const mapped = dependencyError('loyalty', answered(resourceExhausted('busy', 750)))
    expect(mapped.kind).toBe('resource_exhausted')
    expect(mapped.retryDelayMs).toBe(750)
  })

  it('when the dependency is down or slow, then the caller gets UNAVAILABLE, safe to retry', () => {
    const down = Object.assign(new Error('x'), { code: status.UNAVAILABLE, details: 'x', metadata: new Metadata() })
    const slow = { ...down, code: status.DEADLINE_EXCEEDED }
    expect(dependencyError('customer', down).kind).toBe('unavailable')
    expect(dependencyError('customer', slow).message).toMatch(/did not answer in time/)
  })
})

describe('calls to one dependency', () => {
  const dep = { target: 'unused', timeoutMs: 1000, maxInFlight: 2 }
  const budget = { deadline: undefined }

  it('when as many calls as allowed are in flight, then the next one is refused at once with RESOURCE_EXHAUSTED', async () => {
    const calls = dependencyCalls('favorites', dep)
    const pending: (() => void)[] = []
    const hang = () => calls.call(() => new Promise<string>((resolve) => pending.push(() => resolve('ok'))), budget)
    const first = hang()
    const second = hang()
    const refused = await calls.call(() => Promise.resolve('never'), budget).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(AppError)
    expect((refused as AppError).kind).toBe('resource_exhausted')
    for (const answer of pending) answer()
    expect(await Promise.all([first, second])).toEqual(['ok', 'ok'])
    // The slots are free again.
    expect(await calls.call(() => Promise.resolve('again'), budget)).toBe('again')
  })

  it('when a read finds nothing, then find answers undefined instead of failing', async () => {
    const calls = dependencyCalls('customer', dep)
    const notFound = Object.assign(new Error('no'), { code: status.NOT_FOUND, details: 'no', metadata: new Metadata() })
    expect(await calls.find(() => Promise.reject(notFound), budget)).toBeUndefined()
  })

  it('uses the earlier of the caller deadline and the dependency timeout', async () => {
    const calls = dependencyCalls('customer', dep)
    const soon = new Date(Date.now() + 100)
    let seen: Date | number | undefined
    await calls.call(
      (options) => {
        seen = options.deadline
        return Promise.resolve('ok')
      },
      { deadline: soon },
    )
    expect(seen).toEqual(soon)
  })
})
