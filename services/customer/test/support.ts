import { credentials } from '@grpc/grpc-js'
import type { Address, Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { CustomerServiceService, type CreateCustomerRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { createClient, type PromiseClient } from '@brewmesh/sdk/client.ts'
import { PRINCIPALS } from '@brewmesh/testkit/principals.ts'
import { cleanupEnv, startTestService, testEnv, type ServiceUnderTest, type TestService } from '@brewmesh/testkit/service.ts'
import { bearer, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { migrateCustomer, startApp, type AppOptions } from '../src/app.ts'
import { readConfig, type CustomerConfig } from '../src/config.ts'

export type CustomerClient = PromiseClient<typeof CustomerServiceService>

export type Running = TestService<typeof CustomerServiceService, CustomerConfig>

/** A fresh isolated environment (own schema, topics, key prefix) on the shared test servers. */
export const customerEnv = (extra: Record<string, string> = {}) => testEnv('customer', extra)

/** The staff token every test client starts with (support + operator): allowed everything staff may do. */
export const STAFF: TokenClaims = PRINCIPALS.staff

const customer = (options: AppOptions): ServiceUnderTest<typeof CustomerServiceService, CustomerConfig> => ({
  name: 'customer',
  definition: CustomerServiceService,
  readConfig,
  migrate: migrateCustomer,
  start: (config) => startApp(config, options),
})

/**
 * Migrates and starts the Customer service in-process on port 0, waiting until its consumers joined
 * their groups (unless `waitForFeed` is false); with `tls` (the CA to trust) its clients use TLS.
 */
export async function startCustomer(
  env: Record<string, string>,
  options: AppOptions & { migrate?: boolean; waitForFeed?: boolean; tls?: Buffer } = {},
): Promise<Running> {
  const { migrate, waitForFeed, tls, ...app } = options
  const svc = await startTestService(customer(app), env, { migrate: migrate !== false, ready: waitForFeed !== false })
  return tls ? overTls(svc, tls) : svc
}

/** The same service, with clients that trust `ca` (the testkit's clients are plaintext). */
async function overTls(svc: Running, ca: Buffer): Promise<Running> {
  const clients: CustomerClient[] = []
  const as = async (claims: TokenClaims) => {
    const token = await svc.issuer.mint(claims)
    const c = createClient(CustomerServiceService, svc.address, credentials.createSsl(ca), { interceptors: [bearer(token)] })
    clients.push(c)
    return c
  }
  return {
    ...svc,
    client: await as(STAFF),
    as,
    async stop() {
      for (const c of clients) c.close()
      await svc.stop()
    },
  }
}

export const cleanup = cleanupEnv

let counter = 0
/** A valid create request with unique username and email. */
export function newCustomerRequest(overrides: Partial<CreateCustomerRequest> = {}): CreateCustomerRequest {
  counter += 1
  const tag = `${process.pid}${Date.now().toString(36)}${counter}`
  return {
    requestId: '',
    username: `user_${tag}`,
    displayName: `Member ${counter}`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `ada.${tag}@example.com`,
    phone: '+14155550123',
    preferences: undefined,
    dietaryRestrictions: [],
    householdId: '',
    ...overrides,
  }
}

export async function createCustomer(client: CustomerClient, overrides: Partial<CreateCustomerRequest> = {}): Promise<Customer> {
  return (await client.createCustomer(newCustomerRequest(overrides))).customer!
}

/** A valid address of `customerId` for CreateAddress (or the overrides). */
export function newAddress(customerId: string, overrides: Partial<Address> = {}): Address {
  return {
    id: '',
    customerId,
    street: '1 Main St',
    city: 'Springfield',
    stateProvince: 'IL',
    postalCode: '12345',
    countryCode: 'US',
    label: 'home',
    createdAt: undefined,
    updatedAt: undefined,
    ...overrides,
  }
}
