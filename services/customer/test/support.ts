import { inject } from 'vitest'
import { CustomerServiceClient, type CreateCustomerRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { bearer, testIssuer, type TestIssuer, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { migrateCustomer, startApp, type App } from '../src/app.ts'
import { readConfig, type CustomerConfig } from '../src/config.ts'
import { clientChannelCredentials } from '@brewmesh/runtime/auth/outbound.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'

export interface Running {
  app: App
  /** A client with a staff token (support + operator): allowed everything staff may do. */
  client: CustomerServiceClient
  issuer: TestIssuer
  /** A client calling with a token for these claims. */
  clientAs(claims: TokenClaims): Promise<CustomerServiceClient>
  config: CustomerConfig
  env: Record<string, string>
  stop(): Promise<void>
}

/** A fresh isolated environment (own schema, topics, key prefix) on the shared test servers. */
export function customerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return isolatedEnv('customer', inject('infra').env, extra)
}

export const STAFF: TokenClaims = { sub: 'staff-test', roles: ['support', 'operator'] }

/** Migrates and starts the Customer service in-process on port 0; with `tls` (the CA to trust) its clients use TLS. */
export async function startCustomer(
  env: Record<string, string>,
  options: { migrate?: boolean; waitForFeed?: boolean; tls?: Buffer } = {},
): Promise<Running> {
  const issuer = await testIssuer()
  const config = readConfig({ ...issuer.env, ...env })
  if (options.migrate !== false) await migrateCustomer(config, createLogger({ level: 'silent', service: 'test', instanceId: 'test' }))
  const app = await startApp(config)
  if (options.waitForFeed !== false) await app.feedReady
  const address = `127.0.0.1:${app.grpcPort}`
  const clients: CustomerServiceClient[] = []
  const clientAs = async (claims: TokenClaims) => {
    const channel = clientChannelCredentials({ ca: options.tls?.toString() })
    const c = new CustomerServiceClient(address, channel, { interceptors: [bearer(await issuer.mint(claims))] })
    clients.push(c)
    return c
  }
  const client = await clientAs(STAFF)
  return {
    app,
    client,
    issuer,
    clientAs,
    config,
    env,
    async stop() {
      for (const c of clients) c.close()
      await app.stop()
    },
  }
}

export const cleanup = (env: Record<string, string>) => dropSchema(env)

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

export async function createCustomer(client: CustomerServiceClient, overrides: Partial<CreateCustomerRequest> = {}): Promise<Customer> {
  const response = await unary<{ customer?: Customer }>((cb) => client.createCustomer(newCustomerRequest(overrides), cb))
  return response.customer!
}
