import { randomUUID } from 'node:crypto'
import { credentials, type ServiceDefinition } from '@grpc/grpc-js'
import { DrinkSize, MilkType, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { CustomerServiceService, type CreateCustomerRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { Favorite } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { FavoritesServiceService, type AddFavoriteRequest } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { LoyaltyServiceService } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import type { Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import {
  OrderServiceService,
  type OrderLineInput,
  type PlaceGroupOrderRequest,
  type PlaceOrderRequest,
} from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { withServiceToken } from '@brewmesh/runtime/auth'
import type { RunningService } from '@brewmesh/runtime/service'
import type { PromiseClient } from '@brewmesh/sdk/client.ts'
import { PRINCIPALS } from '@brewmesh/testkit/principals.ts'
import { sqlQuery } from '@brewmesh/testkit/env.ts'
import { cleanupEnv, startTestService, testEnv, type ServiceUnderTest, type TestService } from '@brewmesh/testkit/service.ts'
import { testIssuer } from '@brewmesh/testkit/tokens.ts'
import { migrateCustomer, startApp as startCustomerApp } from '@brewmesh/customer/src/app.ts'
import { readConfig as readCustomerConfig, type CustomerConfig } from '@brewmesh/customer/src/config.ts'
import { migrateFavorites, startApp as startFavoritesApp } from '@brewmesh/favorites/src/app.ts'
import { readConfig as readFavoritesConfig, type FavoritesConfig } from '@brewmesh/favorites/src/config.ts'
import { migrateLoyalty, startApp as startLoyaltyApp } from '@brewmesh/loyalty/src/app.ts'
import { readConfig as readLoyaltyConfig, type LoyaltyConfig } from '@brewmesh/loyalty/src/config.ts'
import { orderClient } from '@brewmesh/loyalty/src/clients/order-client.ts'
import type { OrderLookup } from '@brewmesh/loyalty/src/domain/ports.ts'
import { migrateOrder, startApp } from '../src/app.ts'
import { readConfig, type OrderConfig } from '../src/config.ts'

/** Drinks of the menu the first migration seeds (src/db/migrations/0001_orders.ts), by name. */
export const MENU_IDS = {
  latte: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f601',
  cappuccino: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f602',
  flatWhite: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f603',
  mocha: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f604',
  americano: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f605',
  espresso: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f606',
  drip: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f607',
  coldBrew: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f608',
  chaiLatte: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f609',
  earlGrey: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f60a',
  hotChocolate: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f60b',
  pumpkinSpice: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f60c',
} as const

/** Rewards of the catalog the Loyalty service's first migration seeds. */
export const SEED = {
  freeDrink: '7a1c3e10-0001-4a6b-9d1e-3f2a1b000001',
  dollarOff: '7a1c3e10-0002-4a6b-9d1e-3f2a1b000002',
  tenPercent: '7a1c3e10-0003-4a6b-9d1e-3f2a1b000003',
} as const

export type OrderClient = PromiseClient<typeof OrderServiceService>
export type CustomerClient = PromiseClient<typeof CustomerServiceService>
export type LoyaltyClient = PromiseClient<typeof LoyaltyServiceService>
export type FavoritesClient = PromiseClient<typeof FavoritesServiceService>

export type OrderNode = TestService<typeof OrderServiceService, OrderConfig>

/** The whole mesh in this process: Customer, Favorites and Loyalty for real, and the Order Service calling them over gRPC. */
export interface Mesh {
  customer: TestService<typeof CustomerServiceService, CustomerConfig>
  favorites: TestService<typeof FavoritesServiceService, FavoritesConfig>
  loyalty: TestService<typeof LoyaltyServiceService, LoyaltyConfig>
  order: OrderNode
  /** Another Order Service replica (same schema and topic); `extra` overrides its environment. */
  /**
   * Another Order replica on the same schema, or with `DB_SCHEMA` in `extra` another deployment
   * of its own (migrated, dropped at stop): payments are answered by whichever replica of a
   * deployment takes them, so a differently configured processor needs its own orders.
   */
  startOrder(extra?: Record<string, string>): Promise<OrderNode>
  stop(): Promise<void>
}

/**
 * A started service as the testkit expects it. Customer and Loyalty resolve their consumers'
 * readiness under their own names until they are declared services too; waiting for every one of
 * them is what `ready` means.
 */
function running(app: object): RunningService {
  const named = app as Record<string, unknown>
  const waits = ['ready', 'feedReady', 'statsReady', 'inboxReady'].map((k) => named[k]).filter((p) => p instanceof Promise)
  return { ...(app as RunningService), ready: Promise.all(waits).then(() => undefined) }
}

function service<S extends ServiceDefinition, Config>(
  name: ServiceUnderTest<S, Config>['name'],
  definition: S,
  readConfig: (env: Record<string, string | undefined>) => Config,
  migrate: ServiceUnderTest<S, Config>['migrate'],
  start: (config: Config) => Promise<object>,
): ServiceUnderTest<S, Config> {
  return { name, definition, readConfig, migrate, start: async (config) => running(await start(config)) }
}

const customerService = service('customer', CustomerServiceService, readCustomerConfig, migrateCustomer, (c) => startCustomerApp(c))
const favoritesService = service('favorites', FavoritesServiceService, readFavoritesConfig, migrateFavorites, (c) => startFavoritesApp(c))
/**
 * Loyalty starts before the Order Service it asks about stranded reservations (its hold job): the
 * look-up is bound once the Order Service runs, a real client with Loyalty's own identity.
 */
const loyaltyService = (orders: OrderLookup) =>
  service('loyalty', LoyaltyServiceService, readLoyaltyConfig, migrateLoyalty, (c) => startLoyaltyApp(c, { orders }))

/** The Loyalty service's real Order Service client, as its hold job uses it. */
export async function loyaltyOrderLookup(order: OrderNode): Promise<OrderLookup & { close(): void }> {
  const issuer = await testIssuer()
  return orderClient(
    { target: order.address, timeoutMs: 2000 },
    {
      credentials: credentials.createInsecure(),
      interceptors: [withServiceToken({ token: () => issuer.mint(PRINCIPALS.loyaltyService) })],
    },
  )
}
// The Order Service's own identity for its calls to the others, minted by the test issuer.
const orderService = service('order', OrderServiceService, readConfig, migrateOrder, async (config) => {
  const issuer = await testIssuer()
  return startApp(config, { serviceToken: { token: () => issuer.mint(PRINCIPALS.orderService) } })
})

export function startOrderNode(env: Record<string, string>, migrate = true): Promise<OrderNode> {
  return startTestService(orderService, env, { migrate })
}

export async function startMesh(orderExtra: Record<string, string> = {}): Promise<Mesh> {
  // One topic suffix for the four services, so order events reach the consumers; own schemas each.
  const suffix = `.m${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const shared = { KAFKA_TOPIC_SUFFIX: suffix }
  const customer = await startTestService(customerService, testEnv('customer', shared), { ready: false })
  const favorites = await startTestService(favoritesService, testEnv('favorites', shared))
  const bound: { lookup?: OrderLookup & { close(): void } } = {}
  const orders: OrderLookup = {
    exists: (id) => (bound.lookup ? bound.lookup.exists(id) : Promise.reject(new Error('the Order Service is not started yet'))),
  }
  const loyalty = await startTestService(loyaltyService(orders), testEnv('loyalty', { ...shared, SERVICE_TOKEN_FILE: '/dev/null' }))
  const orderEnv = testEnv('order', {
    ...shared,
    CUSTOMER_SERVICE_ADDR: customer.address,
    FAVORITES_SERVICE_ADDR: favorites.address,
    LOYALTY_SERVICE_ADDR: loyalty.address,
    SERVICE_TOKEN_FILE: '/dev/null', // replaced by the test issuer's token (orderService)
    PAYMENT_DELAY_MS: '0',
    PAYMENT_SUCCESS_PERCENT: '100',
    ...orderExtra,
  })
  const order = await startOrderNode(orderEnv)
  bound.lookup = await loyaltyOrderLookup(order)
  const replicas: OrderNode[] = []
  const ownSchemas: Record<string, string>[] = []
  return {
    customer,
    favorites,
    loyalty,
    order,
    async startOrder(extra = {}) {
      const env: Record<string, string> = { ...orderEnv, INSTANCE_ID: `${orderEnv['INSTANCE_ID']}-${replicas.length + 2}`, ...extra }
      const own = env['DB_SCHEMA'] !== orderEnv['DB_SCHEMA']
      const node = await startOrderNode(env, own)
      replicas.push(node)
      if (own) ownSchemas.push(env)
      return node
    },
    async stop() {
      for (const r of replicas) await r.stop()
      await Promise.all(ownSchemas.map(cleanupEnv))
      bound.lookup?.close()
      await order.stop()
      await Promise.all([loyalty.stop(), favorites.stop(), customer.stop()])
      await Promise.all([order.env, loyalty.env, favorites.env, customer.env].map(cleanupEnv))
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The other services' data, made through their public API.
// ---------------------------------------------------------------------------------------------

let counter = 0
/** A new customer (unique username and email), optionally in a household. */
export async function createCustomer(client: CustomerClient, overrides: Partial<CreateCustomerRequest> = {}): Promise<Customer> {
  counter += 1
  const tag = `${process.pid}${Date.now().toString(36)}${counter}`
  const request: CreateCustomerRequest = {
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
  return (await client.createCustomer(request)).customer!
}

/** Gives a customer points (an operator's AdjustPoints). */
export const grant = (client: LoyaltyClient, customerId: string, points: number) =>
  client.adjustPoints({ requestId: randomUUID(), customerId, points: String(points), reason: 'test grant' })

/** Saves a favorite for a customer (a medium oat latte unless the overrides say otherwise). */
export async function addFavorite(
  client: FavoritesClient,
  customerId: string,
  overrides: Partial<AddFavoriteRequest> = {},
): Promise<Favorite> {
  const request: AddFavoriteRequest = {
    requestId: randomUUID(),
    customerId,
    menuItemId: MENU_IDS.latte,
    displayName: 'Caffè Latte',
    customization: OAT_LATTE.customization,
    nickname: '',
    position: undefined,
    pinned: false,
    ...overrides,
  }
  return (await client.addFavorite(request)).favorite!
}

// ---------------------------------------------------------------------------------------------
// Orders.
// ---------------------------------------------------------------------------------------------

const OAT_LATTE: { menuItemId: string; customization: DrinkCustomization } = {
  menuItemId: MENU_IDS.latte,
  customization: {
    size: DrinkSize.DRINK_SIZE_MEDIUM,
    milk: MilkType.MILK_TYPE_OAT,
    extraShots: 0,
    syrups: [],
    temperature: 0,
    sweetness: 0,
  },
}

export const latte = (quantity = 1, memberCustomerId = ''): OrderLineInput => ({
  quantity,
  memberCustomerId,
  item: { $case: 'drink', value: { ...OAT_LATTE, customization: { ...OAT_LATTE.customization } } },
})
export const usual = (memberCustomerId = ''): OrderLineInput => ({ quantity: 1, memberCustomerId, item: { $case: 'usual', value: {} } })

export function placeRequest(customerId: string, overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return { requestId: randomUUID(), customerId, lines: [latte()], rewardIds: [], note: '', ...overrides }
}

/** What an Order Service deployment has heard of a customer (its customer_facts row), if anything. */
export async function heardOf(
  order: OrderNode,
  customerId: string,
): Promise<{ display_name: string; household_id: string | null; active: boolean; deleted: boolean; version: number } | undefined> {
  const [row] = await sqlQuery<{ display_name: string; household_id: string | null; active: boolean; deleted: boolean; version: number }>(
    order.env,
    'select display_name, household_id, active, deleted, version from customer_facts where customer_id = $1',
    [customerId],
  )
  return row
}

export const place = (client: OrderClient, request: PlaceOrderRequest) => client.placeOrder(request).then((r) => r.order!)

/** A group order: the header, then one message per line. */
export function placeGroup(
  client: OrderClient,
  header: { requestId: string; customerId: string; rewardIds?: string[] },
  lines: OrderLineInput[],
): Promise<Order> {
  const messages: PlaceGroupOrderRequest[] = [
    {
      message: {
        $case: 'header',
        value: { requestId: header.requestId, customerId: header.customerId, rewardIds: header.rewardIds ?? [], note: '' },
      },
    },
    ...lines.map((line): PlaceGroupOrderRequest => ({ message: { $case: 'line', value: line } })),
  ]
  return client.placeGroupOrder(messages).then((r) => r.order!)
}
