import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import {
  CustomerServiceService,
  type ActivityFeedRequest,
  type ActivityFeedResponse,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { accessCases } from '@brewmesh/testkit/access-matrix.ts'
import { failure, pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { customer } from '@brewmesh/testkit/principals.ts'
import { bearer, signToken, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { ACCESS } from '../src/grpc/access.ts'
import {
  cleanup,
  createCustomer,
  customerEnv,
  newAddress,
  newCustomerRequest,
  startCustomer,
  type CustomerClient,
  type Running,
} from './support.ts'

let svc: Running
const env = customerEnv()
const household = randomUUID()
let member: Customer // the customer the calls are about
let stranger: Customer // another household
let addressId: string

beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false })
  member = await createCustomer(svc.client, { householdId: household })
  stranger = await createCustomer(svc.client, { householdId: randomUUID() })
  addressId = (await svc.client.createAddress({ address: newAddress(member.id) })).address!.id
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const clients: CustomerClient[] = []
const withToken = (token?: string, at = svc.address) => {
  const c = createClient(CustomerServiceService, at, credentials.createInsecure(), token ? { interceptors: [bearer(token)] } : {})
  clients.push(c)
  return c
}
afterAll(() => clients.forEach((c) => c.close()))

const customerToken = (c: Customer): TokenClaims => customer(c.id, c.householdId)
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  )
/** A stream's outcome: its first message (then the call is cancelled), or its status. */
const firstOf = async (messages: AsyncIterable<unknown>) => {
  for await (const _ of messages) return
}
const subscribe = (target: NonNullable<ActivityFeedRequest['action']>['value']['target']): ActivityFeedRequest => ({
  action: { $case: 'subscribe', value: { target } },
})

/** Every RPC, about `member` (or their address). */
const RPCS: Record<keyof typeof ACCESS, (c: CustomerClient) => Promise<unknown>> = {
  CreateCustomer: (c) => c.createCustomer(newCustomerRequest()),
  GetCustomer: (c) => c.getCustomer({ id: member.id }),
  UpdateCustomer: (c) =>
    c.updateCustomer({ customer: { ...member, displayName: 'Auth' }, updateMask: ['display_name'], expectedVersion: 0 }),
  // A stale expected version: authorized, then ABORTED, so the customer stays for the other cases.
  DeleteCustomer: (c) => c.deleteCustomer({ id: member.id, expectedVersion: 999 }),
  ListCustomers: (c) => c.listCustomers({ pageSize: 5, pageToken: '', householdId: household }),
  ActivateCustomer: (c) => c.activateCustomer({ id: member.id }),
  DeactivateCustomer: (c) => c.deactivateCustomer({ id: stranger.id, reason: '' }),
  RecordLogin: (c) => c.recordLogin({ id: member.id }),
  CreateAddress: (c) => c.createAddress({ address: newAddress(member.id) }),
  ListAddresses: (c) => c.listAddresses({ customerId: member.id }),
  UpdateAddress: (c) =>
    c.updateAddress({ address: { ...newAddress(member.id), id: addressId, city: 'Shelbyville' }, updateMask: ['city'] }),
  // An address of the member's own for each call, so an allowed deletion leaves the next case one.
  DeleteAddress: async (c) => c.deleteAddress({ id: (await svc.client.createAddress({ address: newAddress(member.id) })).address!.id }),
  WatchCustomer: (c) => firstOf(c.watchCustomer({ id: member.id })),
  ImportCustomers: (c) => c.importCustomers([{ ...newCustomerRequest(), rowNumber: '1' }]),
  ActivityFeed: (c) => firstOf(c.activityFeed([subscribe({ $case: 'customerId', value: member.id })])),
  GetCustomerStats: (c) => c.getCustomerStats({ customerId: member.id }),
  WatchCustomerStats: (c) => firstOf(c.watchCustomerStats({ customerId: member.id })),
}

describe('authentication and authorization, for every CustomerService RPC', () => {
  for (const [rpc, call] of Object.entries(RPCS) as [keyof typeof ACCESS, (c: CustomerClient) => Promise<unknown>][]) {
    it(`${rpc}: no token and an expired token are UNAUTHENTICATED; every caller its access rule names passes, every other is PERMISSION_DENIED`, async () => {
      expect(await codeOf(call(withToken()))).toBe(status.UNAUTHENTICATED)
      expect(await codeOf(call(withToken(await svc.issuer.mint(customerToken(member), { expiresIn: -120 }))))).toBe(status.UNAUTHENTICATED)
      const passed = rpc === 'DeleteCustomer' ? status.ABORTED : status.OK
      for (const c of accessCases(ACCESS[rpc], member.id, household)) {
        // ListCustomers is about a household, not a customer: the matrix's customer is a member of it.
        const allowed = c.allowed || (rpc === 'ListCustomers' && c.who === 'the customer')
        const code = await codeOf(call(withToken(await svc.issuer.mint(c.claims))))
        expect({ caller: c.who, code }).toEqual({ caller: c.who, code: allowed ? passed : status.PERMISSION_DENIED })
      }
    })
  }

  it('refuses tokens from another issuer or audience, not yet valid, or with a bad signature', async () => {
    const claims = customerToken(member)
    const call = (token: string) => codeOf(withToken(token).getCustomer({ id: member.id }))
    expect(await call(await svc.issuer.mint(claims, { issuer: 'someone-else' }))).toBe(status.UNAUTHENTICATED)
    expect(await call(await svc.issuer.mint(claims, { audience: 'other-api' }))).toBe(status.UNAUTHENTICATED)
    expect(await call(await svc.issuer.mint(claims, { notBefore: 3600 }))).toBe(status.UNAUTHENTICATED)
    const forged = (await svc.issuer.mint(claims)).slice(0, -4) + 'AAAA'
    expect(await call(forged)).toBe(status.UNAUTHENTICATED)
    expect(await call('not-a-jwt')).toBe(status.UNAUTHENTICATED)
    expect(await call(await svc.issuer.mint({ sub: member.id, roles: ['janitor'] }))).toBe(status.UNAUTHENTICATED)
  })

  it('does not tell a customer which ids exist outside their household', async () => {
    const asMember = await svc.as(customerToken(member))
    const unknown = await codeOf(asMember.getCustomer({ id: randomUUID() }))
    const existing = await codeOf(asMember.getCustomer({ id: stranger.id }))
    expect([unknown, existing]).toEqual([status.PERMISSION_DENIED, status.PERMISSION_DENIED])
  })

  it('checks every subscription a feed adds, not only the first', async () => {
    const requests = pushable<ActivityFeedRequest>()
    const reader = new StreamReader<ActivityFeedResponse>((await svc.as(customerToken(member))).activityFeed(requests))
    requests.push(subscribe({ $case: 'householdId', value: household }))
    expect((await reader.next()).message?.$case).toBe('ack')
    requests.push(subscribe({ $case: 'customerId', value: stranger.id }))
    expect((await reader.end())?.code).toBe(status.PERMISSION_DENIED)
  })

  it('leaves health and reflection open without a token', async () => {
    const err = await failure(withToken().getCustomer({ id: member.id }))
    expect(err.code).toBe(status.UNAUTHENTICATED)
    expect(svc.app.health.dependencies.get('postgres')).toBe(true)
  })
})

describe('keys from a JWKS endpoint', () => {
  let jwks: Server
  let keys: object[] = []
  let rotating: Running | undefined
  afterAll(async () => {
    await rotating?.stop()
    await new Promise((resolve) => jwks?.close(resolve))
  })

  it('accepts a token signed with a key added to the JWKS later, without a restart (RS256 and ES256)', async () => {
    const first = await generateKeyPair('RS256', { extractable: true })
    keys = [{ ...(await exportJWK(first.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }]
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys }))
    })
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/.well-known/jwks.json`
    const rotEnv = { ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-jwks`, AUTH_JWKS_URL: url, AUTH_PUBLIC_KEY: '' }
    rotating = await startCustomer(rotEnv, { migrate: false, waitForFeed: false })
    const address = rotating.address
    const get = (token: string) => codeOf(withToken(token, address).getCustomer({ id: member.id }))
    const staff = { sub: 's1', roles: ['support'] }

    expect(await get(await signToken(first.privateKey, 'RS256', 'k1', staff))).toBe(status.OK)
    const second = await generateKeyPair('ES256', { extractable: true })
    expect(await get(await signToken(second.privateKey, 'ES256', 'k2', staff))).toBe(status.UNAUTHENTICATED)
    keys = [...keys, { ...(await exportJWK(second.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' }]
    // jose refetches the set when a token names an unknown key id (after a 30 s cool-down at most).
    const deadline = Date.now() + 45_000
    let outcome = await get(await signToken(second.privateKey, 'ES256', 'k2', staff))
    while (outcome !== status.OK && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      outcome = await get(await signToken(second.privateKey, 'ES256', 'k2', staff))
    }
    expect(outcome).toBe(status.OK)
  }, 90_000)
})
