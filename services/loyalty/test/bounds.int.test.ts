import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { cleanup, grant, loyaltyEnv, openAccount, startLoyalty, type Running } from './support.ts'

// What a caller cannot push past: the contract's limits, page tokens, the size of numbers.
let svc: Running
const env = loyaltyEnv()
beforeAll(async () => {
  svc = await startLoyalty(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const fields = (err: unknown) => fieldViolationsOf(err).map((v) => v.field)

describe('contract limits', () => {
  it('refuse a NUL, an overlong field and an out-of-range time before the service reads them, naming each field', async () => {
    const id = await openAccount(svc)
    const nul = await failure(svc.client.adjustPoints({ requestId: 'r'.repeat(129), customerId: id, points: '1', reason: 'a\u0000b' }))
    expect(nul.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(nul).sort()).toEqual(['reason', 'request_id'])
    const list = (createdAfter?: Date, createdBefore?: Date) =>
      svc.client.listTransactions({ customerId: id, pageSize: 0, pageToken: '', kinds: [], orderId: '', createdAfter, createdBefore })
    const early = await failure(list(new Date(Date.UTC(1, 0, 1))))
    expect({ code: early.code, fields: fields(early) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['created_after'] })
    const late = await failure(list(undefined, new Date(Date.UTC(10_000, 0, 1))))
    expect({ code: late.code, fields: fields(late) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['created_before'] })
    expect((await list(new Date(0), new Date(Date.UTC(9999, 11, 31)))).entries).toEqual([])
    const longOrder = await failure(
      svc.client.listTransactions({ customerId: id, pageSize: 0, pageToken: '', kinds: [], orderId: 'o'.repeat(129) }),
    )
    expect(fields(longOrder)).toEqual(['order_id'])
  })
})

/** A page token with its position changed as a caller could (tokens are opaque, not sealed). */
function tamper(token: string, position: Record<string, unknown>): string {
  const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p: Record<string, unknown>; f: string }
  return Buffer.from(JSON.stringify({ ...parsed, p: { ...parsed.p, ...position } })).toString('base64url')
}

describe('forged page tokens', () => {
  it('ListTransactions: a garbled token, or a real one whose position was changed, is INVALID_ARGUMENT page_token', async () => {
    const id = await openAccount(svc)
    for (let i = 1; i <= 3; i++) await grant(svc, id, i)
    const list = (pageToken: string) => svc.client.listTransactions({ customerId: id, pageSize: 2, pageToken, kinds: [], orderId: '' })
    const { nextPageToken } = await list('')
    expect((await list(nextPageToken)).entries.map((e) => e.points)).toEqual(['1'])
    for (const forged of [
      'not-a-token',
      tamper(nextPageToken, { t: 'yesterday' }),
      tamper(nextPageToken, { t: '+275760-09-13T00:00:00.000Z' }),
      tamper(nextPageToken, { t: -1 }),
      tamper(nextPageToken, { id: 'x'.repeat(1000) }),
      tamper(nextPageToken, { id: 42 }),
    ]) {
      const err = await failure(list(forged))
      expect({ code: err.code, fields: fields(err) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['page_token'] })
    }
  })

  it('ListRewards: a token whose offset was changed to something no page ends at is INVALID_ARGUMENT page_token', async () => {
    const list = (pageToken: string) =>
      svc.client.listRewards({ pageSize: 2, pageToken, customerId: '', onlyAffordable: false, includeInactive: false })
    const { nextPageToken } = await list('')
    expect((await list(nextPageToken)).rewards).toHaveLength(2)
    for (const forged of ['%%%', tamper(nextPageToken, { o: -2 }), tamper(nextPageToken, { o: 1.5 }), tamper(nextPageToken, { o: '2' })]) {
      const err = await failure(list(forged))
      expect({ code: err.code, fields: fields(err) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['page_token'] })
    }
  })
})
