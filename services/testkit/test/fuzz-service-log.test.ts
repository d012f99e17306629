import { describe, expect, it } from 'vitest'
import { ownFrames, ServiceLog, signatureOf } from '../src/fuzz/service-log.ts'

// How the fuzzer reads what a service logged: lines across chunks, errors matched to a call once,
// and one cause however its ids and numbers differ.

const stack = (line: number) =>
  [
    'error: invalid input syntax for type uuid: "x"',
    '    at /repo/node_modules/.pnpm/pg@8.23.1/node_modules/pg/lib/client.js:694:17',
    '    at async PostgresConnection.executeQuery (file:///repo/node_modules/kysely/dist/postgres-driver.js:134:5)',
    `    at async Object.list (file:///repo/services/order/src/db/order-store.ts:${line}:7)`,
    '    at async file:///repo/services/runtime/src/grpc/calls.ts:166:22',
  ].join('\n')

const unexpected = (method: string, message: string, line = 104) =>
  `${JSON.stringify({ level: 'error', method, err: { type: 'DatabaseError', code: '22P02', message, stack: stack(line) }, msg: 'unexpected error' })}\n`

describe('a service log, as the fuzzer reads it', () => {
  it('matches an "unexpected error" to the call of its method, once, also when it arrives in pieces', async () => {
    const log = new ServiceLog()
    const mark = log.mark()
    const line = unexpected('ListOrders', 'boom')
    log.write(line.slice(0, 30))
    setTimeout(() => log.write(line.slice(30)), 10)
    expect((await log.unexpectedError(mark, 'GetOrder', 50))?.msg).toBeUndefined()
    expect((await log.unexpectedError(mark, 'ListOrders', 500))?.err?.message).toBe('boom')
    expect(await log.unexpectedError(mark, 'ListOrders', 20)).toBeUndefined()
    expect(log.unclaimedErrors()).toEqual([])
  })

  it('gives errors that differ only in ids and numbers one cause, at the first frame in services/', () => {
    const log = new ServiceLog()
    log.write(unexpected('ListOrders', 'invalid input syntax for type uuid: "6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f607 "'))
    log.write(unexpected('ListOrders', 'invalid input syntax for type uuid: "x" at 12'))
    log.write(unexpected('ListOrders', 'invalid input syntax for type uuid: "x"', 120))
    const [a, b, c] = log.unclaimedErrors().map((r) => signatureOf(r).key)
    expect(a).toBe('DatabaseError 22P02: invalid input syntax for type uuid: "…" @ services/order/src/db/order-store.ts:104')
    expect(b).not.toBe(a)
    expect(c).toBe('DatabaseError 22P02: invalid input syntax for type uuid: "…" @ services/order/src/db/order-store.ts:120')
    expect(ownFrames(stack(104))).toEqual([
      'Object.list (services/order/src/db/order-store.ts:104)',
      '<anonymous> (services/runtime/src/grpc/calls.ts:166)',
    ])
  })
})
