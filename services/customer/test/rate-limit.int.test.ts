import { status } from '@grpc/grpc-js'
import { Redis } from 'iovalkey'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { retryDelayOf } from '@brewmesh/sdk/errors.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { PRINCIPALS } from '@brewmesh/testkit/principals.ts'
import { cleanup, createCustomer, customerEnv, newCustomerRequest, startCustomer, type Running } from './support.ts'

let svc: Running
const env = customerEnv({ RATE_LIMIT_WRITES: '3', RATE_LIMIT_WINDOW_SECONDS: '60' })
beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false })
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

describe('the per-caller write limit', () => {
  it('refuses the fourth write in a window with RESOURCE_EXHAUSTED and RetryInfo, per caller, leaving reads alone', async () => {
    const supportSub = `support-${Date.now()}`
    const support = await svc.as({ sub: supportSub, roles: ['support'] })
    const created: Customer[] = []
    for (let i = 0; i < 3; i++) created.push(await createCustomer(support))
    const err = await failure(support.createCustomer(newCustomerRequest()))
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED)
    const delay = retryDelayOf(err)
    expect(delay).toBeGreaterThan(0)
    expect(delay).toBeLessThanOrEqual(60_000)

    // The caller's count for this window expires: at most two windows after its first write.
    const valkey = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']) })
    try {
      const [key] = await valkey.keys(`${env['VALKEY_KEY_PREFIX']}*ratelimit:*${supportSub}*`)
      expect(await valkey.get(key!)).toBe('4')
      const ttl = await valkey.ttl(key!)
      expect(ttl).toBeGreaterThan(60)
      expect(ttl).toBeLessThanOrEqual(120)
    } finally {
      valkey.disconnect()
    }

    // Reads are not limited, and another caller has its own budget.
    expect((await support.getCustomer({ id: created[0]!.id })).customer?.id).toBe(created[0]!.id)
    const colleague = await svc.as({ sub: `support-other-${Date.now()}`, roles: ['support'] })
    expect((await createCustomer(colleague)).id).toBeTruthy()
  })

  it('does not limit service identities', async () => {
    const identity = await svc.as(PRINCIPALS.identityService)
    for (let i = 0; i < 5; i++) expect((await createCustomer(identity)).id).toBeTruthy()
  })
})
