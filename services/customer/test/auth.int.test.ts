import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CustomerServiceClient,
  type ActivityFeedResponse,
  type CustomerServiceClient as Client,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { failure, StreamReader, unary } from '@brewmesh/testkit/grpc.ts'
import { bearer, signToken, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { cleanup, createCustomer, customerEnv, newCustomerRequest, startCustomer, type Running } from './support.ts'

let svc: Running
const env = customerEnv()
const household = randomUUID()
let member: Customer // the customer the calls are about
let sibling: Customer // same household
let stranger: Customer // another household
let addressId: string

beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false })
  member = await createCustomer(svc.client, { householdId: household })
  sibling = await createCustomer(svc.client, { householdId: household })
  stranger = await createCustomer(svc.client, { householdId: randomUUID() })
  const created = await unary<{ address?: { id: string } }>((cb) =>
    svc.client.createAddress(
      {
        address: {
          id: '',
          customerId: member.id,
          street: '1 Main St',
          city: 'Springfield',
          stateProvince: 'IL',
          postalCode: '12345',
          countryCode: 'US',
          label: '',
        },
      },
      cb,
    ),
  )
  addressId = created.address!.id
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const anonymous = () => new CustomerServiceClient(`127.0.0.1:${svc.app.grpcPort}`, credentials.createInsecure())
const withToken = (token: string) =>
  new CustomerServiceClient(`127.0.0.1:${svc.app.grpcPort}`, credentials.createInsecure(), { interceptors: [bearer(token)] })
const customerToken = (c: Customer): TokenClaims => ({ sub: c.id, roles: ['customer'], household_id: c.householdId })

/** Each RPC as a call whose outcome is a status code (OK or the refusal), about `member`. */
type Call = (client: Client) => Promise<unknown>
const streamStatus = (stream: NodeJS.EventEmitter & { cancel(): void }) =>
  new Promise<void>((resolve, reject) => {
    stream.on('data', () => {
      stream.cancel()
      resolve()
    })
    stream.on('error', (err: ServiceError) => (err.code === status.CANCELLED ? resolve() : reject(err)))
    stream.on('end', () => resolve())
  })
const RPCS: Record<string, { call: Call; wrongRole: TokenClaims; otherCustomer: boolean }> = {
  GetCustomer: {
    call: (c) => unary((cb) => c.getCustomer({ id: member.id }, cb)),
    wrongRole: { sub: 'loyalty-x', roles: ['service'] },
    otherCustomer: true,
  },
  UpdateCustomer: {
    call: (c) =>
      unary((cb) =>
        c.updateCustomer({ customer: { ...member, displayName: 'Auth' }, updateMask: ['display_name'], expectedVersion: 0 }, cb),
      ),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  ListCustomers: {
    call: (c) => unary((cb) => c.listCustomers({ pageSize: 5, pageToken: '', householdId: household }, cb)),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  ActivateCustomer: {
    call: (c) => unary((cb) => c.activateCustomer({ id: member.id }, cb)),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  DeactivateCustomer: {
    call: (c) => unary((cb) => c.deactivateCustomer({ id: stranger.id, reason: '' }, cb)),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  RecordLogin: {
    call: (c) => unary((cb) => c.recordLogin({ id: member.id }, cb)),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  CreateAddress: {
    call: (c) =>
      unary((cb) =>
        c.createAddress(
          {
            address: {
              id: '',
              customerId: member.id,
              street: '2 Elm St',
              city: 'Springfield',
              stateProvince: 'IL',
              postalCode: '12345',
              countryCode: 'US',
              label: '',
            },
          },
          cb,
        ),
      ),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  ListAddresses: {
    call: (c) => unary((cb) => c.listAddresses({ customerId: member.id }, cb)),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  UpdateAddress: {
    call: (c) =>
      unary((cb) =>
        c.updateAddress(
          {
            address: {
              id: addressId,
              customerId: '',
              street: '',
              city: 'Shelbyville',
              stateProvince: '',
              postalCode: '',
              countryCode: '',
              label: '',
            },
            updateMask: ['city'],
          },
          cb,
        ),
      ),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  WatchCustomer: {
    call: (c) => streamStatus(c.watchCustomer({ id: member.id })),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  ImportCustomers: {
    call: (c) =>
      new Promise((resolve, reject) => {
        const call = c.importCustomers((err, res) => (err ? reject(err) : resolve(res)))
        call.write({ ...newCustomerRequest(), rowNumber: '1' })
        call.end()
      }),
    wrongRole: { sub: 's1', roles: ['support'] },
    otherCustomer: true,
  },
  ActivityFeed: {
    call: (c) =>
      new Promise<void>((resolve, reject) => {
        const call = c.activityFeed()
        const reader = new StreamReader(call)
        call.write({ action: { $case: 'subscribe', value: { target: { $case: 'customerId', value: member.id } } } })
        reader.next().then(() => {
          call.cancel()
          resolve()
        }, reject)
      }),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  CreateCustomer: {
    call: (c) => unary((cb) => c.createCustomer(newCustomerRequest(), cb)),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
  DeleteAddress: {
    call: (c) => unary((cb) => c.deleteAddress({ id: randomUUID() }, cb)),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: false,
  },
  DeleteCustomer: {
    call: (c) => unary((cb) => c.deleteCustomer({ id: member.id, expectedVersion: 999 }, cb)),
    wrongRole: { sub: 'b1', roles: ['barista'] },
    otherCustomer: true,
  },
}

/** The token each RPC's rule admits. */
const RIGHT: Record<string, () => TokenClaims> = {
  GetCustomer: () => customerToken(sibling), // a household member
  UpdateCustomer: () => customerToken(member),
  ListCustomers: () => customerToken(sibling),
  ActivateCustomer: () => ({ sub: 's1', roles: ['support'] }),
  DeactivateCustomer: () => ({ sub: 'op', roles: ['operator'] }),
  RecordLogin: () => ({ sub: 'identity', roles: ['service'] }),
  CreateAddress: () => customerToken(member),
  ListAddresses: () => ({ sub: 'order', roles: ['service'] }),
  UpdateAddress: () => customerToken(member),
  WatchCustomer: () => customerToken(sibling),
  ImportCustomers: () => ({ sub: 'op', roles: ['operator'] }),
  ActivityFeed: () => customerToken(sibling),
  CreateCustomer: () => ({ sub: 'identity', roles: ['service'] }),
  DeleteAddress: () => ({ sub: 's1', roles: ['support'] }),
  DeleteCustomer: () => customerToken(member),
}
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  )

describe('authentication and authorization, for every CustomerService RPC', () => {
  for (const [rpc, spec] of Object.entries(RPCS)) {
    it(`${rpc}: no token and an expired token are UNAUTHENTICATED; another customer and a wrong role are PERMISSION_DENIED; the right token passes`, async () => {
      expect(await codeOf(spec.call(anonymous()))).toBe(status.UNAUTHENTICATED)
      const expired = await svc.issuer.mint(RIGHT[rpc]!(), { expiresIn: -120 })
      expect(await codeOf(spec.call(withToken(expired)))).toBe(status.UNAUTHENTICATED)
      if (spec.otherCustomer)
        expect(await codeOf(spec.call(withToken(await svc.issuer.mint(customerToken(stranger)))))).toBe(status.PERMISSION_DENIED)
      expect(await codeOf(spec.call(withToken(await svc.issuer.mint(spec.wrongRole))))).toBe(status.PERMISSION_DENIED)
      const outcome = await codeOf(spec.call(withToken(await svc.issuer.mint(RIGHT[rpc]!()))))
      // DeleteCustomer with a stale version and DeleteAddress of an unknown id get past authorization.
      expect(outcome).toBe(rpc === 'DeleteCustomer' ? status.ABORTED : rpc === 'DeleteAddress' ? status.NOT_FOUND : status.OK)
    })
  }

  it('refuses tokens from another issuer or audience, not yet valid, or with a bad signature', async () => {
    const claims = customerToken(member)
    const call = (token: string) => codeOf(unary((cb) => withToken(token).getCustomer({ id: member.id }, cb)))
    expect(await call(await svc.issuer.mint(claims, { issuer: 'someone-else' }))).toBe(status.UNAUTHENTICATED)
    expect(await call(await svc.issuer.mint(claims, { audience: 'other-api' }))).toBe(status.UNAUTHENTICATED)
    expect(await call(await svc.issuer.mint(claims, { notBefore: 3600 }))).toBe(status.UNAUTHENTICATED)
    const forged = (await svc.issuer.mint(claims)).slice(0, -4) + 'AAAA'
    expect(await call(forged)).toBe(status.UNAUTHENTICATED)
    expect(await call('not-a-jwt')).toBe(status.UNAUTHENTICATED)
    expect(await call(await svc.issuer.mint({ sub: member.id, roles: ['janitor'] }))).toBe(status.UNAUTHENTICATED)
  })

  it('does not tell a customer which ids exist outside their household', async () => {
    const asMember = await svc.clientAs(customerToken(member))
    const unknown = await codeOf(unary((cb) => asMember.getCustomer({ id: randomUUID() }, cb)))
    const existing = await codeOf(unary((cb) => asMember.getCustomer({ id: stranger.id }, cb)))
    expect([unknown, existing]).toEqual([status.PERMISSION_DENIED, status.PERMISSION_DENIED])
  })

  it('checks every subscription a feed adds, not only the first', async () => {
    const feed = (await svc.clientAs(customerToken(member))).activityFeed()
    const reader = new StreamReader<ActivityFeedResponse>(feed)
    feed.write({ action: { $case: 'subscribe', value: { target: { $case: 'householdId', value: household } } } })
    expect((await reader.next()).message?.$case).toBe('ack')
    feed.write({ action: { $case: 'subscribe', value: { target: { $case: 'customerId', value: stranger.id } } } })
    expect((await reader.end())?.code).toBe(status.PERMISSION_DENIED)
  })

  it('leaves health and reflection open without a token', async () => {
    const err = await failure(unary((cb) => anonymous().getCustomer({ id: member.id }, cb)))
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
    const address = `127.0.0.1:${rotating.app.grpcPort}`
    const get = (token: string) =>
      codeOf(
        unary((cb) =>
          new CustomerServiceClient(address, credentials.createInsecure(), { interceptors: [bearer(token)] }).getCustomer(
            { id: member.id },
            cb,
          ),
        ),
      )
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
