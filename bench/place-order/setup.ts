import { randomUUID } from 'node:crypto'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { DrinkSize, MilkType, Temperature } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { CustomerServiceClient, type CreateCustomerResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { OrderServiceClient, PlaceOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { FavoritesServiceClient, type AddFavoriteRequest } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { LoyaltyServiceClient, type GetAccountResponse } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { bearer, type TestIssuer } from '@brewmesh/testkit/tokens.ts'
import { mapLimited } from '../lib/concurrency.ts'
import type { MeshService } from '../lib/mesh.ts'
import { DOLLAR_OFF, DOLLAR_OFF_POINTS, LATTE, type Caller } from './workload.ts'

export interface SeedOptions {
  customers: number
  /** 1.00-off rewards each customer can redeem: more than any run places. */
  rewardsEach: number
  /** Customers set up at the same time. */
  concurrency: number
  signal: AbortSignal
  onProgress: (done: number) => void
}

interface StaffClients {
  customer: CustomerServiceClient
  favorites: FavoritesServiceClient
  loyalty: LoyaltyServiceClient
  close(): void
}

function staffClients(ports: Record<MeshService, number>, token: string): StaffClients {
  const options = { interceptors: [bearer(token)] }
  const address = (service: MeshService) => `127.0.0.1:${ports[service]}`
  const clients = {
    customer: new CustomerServiceClient(address('customer'), credentials.createInsecure(), options),
    favorites: new FavoritesServiceClient(address('favorites'), credentials.createInsecure(), options),
    loyalty: new LoyaltyServiceClient(address('loyalty'), credentials.createInsecure(), options),
  }
  return { ...clients, close: () => Object.values(clients).forEach((c) => c.close()) }
}

/**
 * Setup calls retried while a service answers UNAVAILABLE (on a busy shared machine a database
 * call can time out); each request keeps its request id, so a retry never does it twice.
 */
// The setup's writes are idempotent (each carries its request id), so a refused or unavailable one
// is tried again: right after start the services race their consumers for a small pool on two cores.
const RETRIED = new Set<number>([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED])

async function retryUnavailable<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (err) {
      if (!RETRIED.has((err as ServiceError).code) || attempt >= attempts) throw err
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt))
    }
  }
}

async function createCustomer(c: StaffClients, tag: string, i: number): Promise<string> {
  const request = {
    requestId: randomUUID(),
    username: `bench_${tag}_${i}`,
    displayName: `Bench ${i}`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `bench.${tag}.${i}@example.com`,
    phone: '',
    preferences: undefined,
    dietaryRestrictions: [],
    householdId: '',
  }
  const created = await retryUnavailable(() => unary<CreateCustomerResponse>((cb) => c.customer.createCustomer(request, cb)))
  return created.customer!.id
}

/** The usual every order asks for: a medium oat latte, pinned. */
async function pinUsual(c: StaffClients, customerId: string): Promise<void> {
  const request: AddFavoriteRequest = {
    requestId: randomUUID(),
    customerId,
    menuItemId: LATTE,
    displayName: 'Caffè Latte',
    customization: {
      size: DrinkSize.DRINK_SIZE_MEDIUM,
      milk: MilkType.MILK_TYPE_OAT,
      extraShots: 0,
      syrups: [],
      temperature: Temperature.TEMPERATURE_UNSPECIFIED,
      sweetness: 0,
    },
    nickname: '',
    position: undefined,
    pinned: true,
  }
  await retryUnavailable(() => unary((cb) => c.favorites.addFavorite(request, cb)))
}

/** The loyalty account opens from the CustomerCreated event; once it exists, points for every reward the runs redeem. */
async function fundRewards(c: StaffClients, customerId: string, rewards: number): Promise<void> {
  await eventually(() => unary<GetAccountResponse>((cb) => c.loyalty.getAccount({ customerId }, cb)), {
    timeoutMs: 60_000,
    intervalMs: 200,
  })
  const request = {
    requestId: randomUUID(),
    customerId,
    points: String(rewards * DOLLAR_OFF_POINTS),
    reason: 'bench: a reward on every order',
  }
  await retryUnavailable(() => unary((cb) => c.loyalty.adjustPoints(request, cb)))
}

/**
 * N customers, each with a pinned usual and points for `rewardsEach` 1.00-off rewards, through
 * the services' own APIs (a staff token); each gets its customer token.
 */
export async function seedCallers(ports: Record<MeshService, number>, issuer: TestIssuer, options: SeedOptions): Promise<Caller[]> {
  const staff = await issuer.mint({ sub: 'bench-setup', roles: ['barista', 'support', 'operator'] }, { expiresIn: 3600 })
  const c = staffClients(ports, staff)
  const tag = randomUUID().slice(0, 6)
  let done = 0
  try {
    const ids = await mapLimited(
      Array.from({ length: options.customers }, (_, i) => i),
      options.concurrency,
      async (i) => {
        options.signal.throwIfAborted()
        const customerId = await createCustomer(c, tag, i)
        await pinUsual(c, customerId)
        await fundRewards(c, customerId, options.rewardsEach)
        options.onProgress(++done)
        return customerId
      },
    )
    return Promise.all(
      ids.map(async (customerId) => ({
        customerId,
        token: await issuer.mint({ sub: customerId, roles: ['customer'] }, { expiresIn: 12 * 3600 }),
      })),
    )
  } catch (err) {
    throw new Error(`setting up customers: ${(err as ServiceError).details ?? (err as Error).message}`, { cause: err })
  } finally {
    c.close()
  }
}

/** One PlaceOrder through a generated client: proves the workload is accepted, and sizes the echo response. */
export async function placeOneOrder(port: number, caller: Caller, requestPrefix: string): Promise<number> {
  const client = new OrderServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), { interceptors: [bearer(caller.token)] })
  try {
    const request = {
      requestId: `${requestPrefix}:${randomUUID()}`,
      customerId: caller.customerId,
      lines: [
        { quantity: 1, memberCustomerId: '', item: { $case: 'drink' as const, value: { menuItemId: LATTE, customization: undefined } } },
        { quantity: 1, memberCustomerId: '', item: { $case: 'usual' as const, value: {} } },
      ],
      rewardIds: [DOLLAR_OFF],
      note: '',
    }
    const response = await unary<PlaceOrderResponse>((cb) => client.placeOrder(request, cb))
    return PlaceOrderResponse.encode(response).finish().length
  } finally {
    client.close()
  }
}
