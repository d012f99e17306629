import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '@brewmesh/testkit/infra.ts'
import { cleanup, loyaltyEnv, openAccount, SEED, STAFF, startLoyalty, type Running } from './support.ts'

// The real grpcurl, as developers will call the service: everything it knows comes from reflection.
const GRPCURL = [join(REPO_ROOT, '.stack/bin/grpcurl'), 'grpcurl'].find((p) => p === 'grpcurl' || existsSync(p))!
const run = promisify(execFile)
let svc: Running
let token = ''
const env = loyaltyEnv()
beforeAll(async () => {
  svc = await startLoyalty(env)
  token = await svc.issuer.mint(STAFF)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const grpcurl = async (flags: string[], ...rest: string[]) =>
  (await run(GRPCURL, ['-plaintext', ...flags, `127.0.0.1:${svc.app.grpcPort}`, ...rest])).stdout
const call = (data: object, method: string) =>
  grpcurl(['-H', `authorization: Bearer ${token}`, '-d', JSON.stringify(data)], `brewmesh.loyalty.v1.LoyaltyService/${method}`)
const failed = (p: Promise<string>) =>
  p.then(
    () => {
      throw new Error('expected grpcurl to fail')
    },
    (e: { stdout: string; stderr: string }) => `${e.stdout}${e.stderr}`,
  )

describe('grpcurl against the running service', () => {
  it('lists exactly the services this server serves and describes the streaming RPCs', async () => {
    expect((await grpcurl([], 'list')).trim().split('\n').sort()).toEqual(['brewmesh.loyalty.v1.LoyaltyService', 'grpc.health.v1.Health'])
    const service = await grpcurl([], 'describe', 'brewmesh.loyalty.v1.LoyaltyService')
    expect(service).toContain(
      'rpc WatchAccount ( .brewmesh.loyalty.v1.WatchAccountRequest ) returns ( stream .brewmesh.loyalty.v1.WatchAccountResponse );',
    )
    expect(service).toContain(
      'rpc CheckoutSession ( stream .brewmesh.loyalty.v1.CheckoutSessionRequest ) returns ( stream .brewmesh.loyalty.v1.CheckoutSessionResponse );',
    )
  })

  it('adjusts points, reads the account and lists rewards, and checks health', async () => {
    const customerId = await openAccount(svc)
    const adjusted = JSON.parse(
      await call({ request_id: randomUUID(), customer_id: customerId, points: '900', reason: 'welcome' }, 'AdjustPoints'),
    ) as {
      account: { balance: string; tier: string }
    }
    expect(adjusted.account).toMatchObject({ balance: '900', tier: 'TIER_SILVER' })
    const account = JSON.parse(await call({ customer_id: customerId }, 'GetAccount')) as { account: { balance: string } }
    expect(account.account.balance).toBe('900')
    const rewards = JSON.parse(await call({ customer_id: customerId, only_affordable: true }, 'ListRewards')) as {
      rewards: { reward: { id: string } }[]
    }
    expect(rewards.rewards.map((r) => r.reward.id)).toEqual([SEED.dollarOff, SEED.tenPercent])
    expect(JSON.parse(await grpcurl([], 'grpc.health.v1.Health/Check'))).toEqual({ status: 'SERVING' })
  })

  it('shows field violations, and refuses calls without a token', async () => {
    const bad = await failed(call({ customer_id: 'x', points: '0' }, 'AdjustPoints'))
    expect(bad).toContain('InvalidArgument')
    expect(bad).toContain('"field": "customer_id"')
    const anonymous = await failed(grpcurl(['-d', '{}'], 'brewmesh.loyalty.v1.LoyaltyService/ListRewards'))
    expect(anonymous).toContain('Unauthenticated')
  })
})
