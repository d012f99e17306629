import { randomUUID } from 'node:crypto'
import { credentials } from '@grpc/grpc-js'
import { inject } from 'vitest'
import { OrderServiceClient, type OrderLineInput, type PlaceOrderRequest } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import type { Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { DrinkSize, MilkType } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { bearer, testIssuer, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { customerEnv, startCustomer, type Running as Customer } from '@brewmesh/customer/test/support.ts'
import { favoritesEnv, startFavorites, type Running as Favorites } from '@brewmesh/favorites/test/support.ts'
import { loyaltyEnv, startLoyalty, type Running as Loyalty } from '@brewmesh/loyalty/test/support.ts'
import { migrateOrder, startApp, type App } from '../src/app.ts'
import { readConfig } from '../src/config.ts'

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

export const STAFF: TokenClaims = { sub: 'support-1', roles: ['support', 'operator'] }
export const BARISTA: TokenClaims = { sub: 'barista-1', roles: ['barista'] }

export interface OrderNode {
  app: App
  address: string
  client: OrderServiceClient
  clientAs(claims: TokenClaims): Promise<OrderServiceClient>
  env: Record<string, string>
  stop(): Promise<void>
}

/** The whole mesh in this process: Customer, Favorites and Loyalty for real, and the Order Service calling them over gRPC. */
export interface Mesh {
  customer: Customer
  favorites: Favorites
  loyalty: Loyalty
  order: OrderNode
  /** Another Order Service replica (same schema and topic); `extra` overrides its environment. */
  startOrder(extra?: Record<string, string>): Promise<OrderNode>
  stop(): Promise<void>
}

export async function startOrderNode(env: Record<string, string>, migrate = true): Promise<OrderNode> {
  const issuer = await testIssuer()
  const config = readConfig({ ...issuer.env, ...env })
  if (migrate) await migrateOrder(config, createLogger({ level: 'silent', service: 'test', instanceId: 'test' }))
  // The Order Service's own identity for its calls to the others, minted by the test issuer.
  const app = await startApp(config, { serviceToken: { token: () => issuer.mint({ sub: 'order', roles: ['service'] }) } })
  await app.ready
  const address = `127.0.0.1:${app.grpcPort}`
  const clients: OrderServiceClient[] = []
  const clientAs = async (claims: TokenClaims) => {
    const c = new OrderServiceClient(address, credentials.createInsecure(), { interceptors: [bearer(await issuer.mint(claims))] })
    clients.push(c)
    return c
  }
  return {
    app,
    address,
    client: await clientAs(STAFF),
    clientAs,
    env,
    async stop() {
      for (const c of clients) c.close()
      await app.stop()
    },
  }
}

export async function startMesh(orderExtra: Record<string, string> = {}): Promise<Mesh> {
  // One topic suffix for the four services, so order events reach the consumers; own schemas each.
  const suffix = `.m${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const shared = { KAFKA_TOPIC_SUFFIX: suffix }
  const customer = await startCustomer(customerEnv(shared), { waitForFeed: false })
  const favorites = await startFavorites(favoritesEnv(shared))
  const loyalty = await startLoyalty(loyaltyEnv(shared))
  const orderEnv = isolatedEnv('order', inject('infra').env, {
    ...shared,
    CUSTOMER_SERVICE_ADDR: `127.0.0.1:${customer.app.grpcPort}`,
    FAVORITES_SERVICE_ADDR: `127.0.0.1:${favorites.app.grpcPort}`,
    LOYALTY_SERVICE_ADDR: `127.0.0.1:${loyalty.app.grpcPort}`,
    SERVICE_TOKEN_FILE: '/dev/null', // replaced by the test issuer's token (startOrderNode)
    PAYMENT_DELAY_MS: '0',
    PAYMENT_SUCCESS_PERCENT: '100',
    ...orderExtra,
  })
  const order = await startOrderNode(orderEnv)
  const replicas: OrderNode[] = []
  return {
    customer,
    favorites,
    loyalty,
    order,
    async startOrder(extra = {}) {
      const node = await startOrderNode({ ...orderEnv, INSTANCE_ID: `${orderEnv['INSTANCE_ID']}-${replicas.length + 2}`, ...extra }, false)
      replicas.push(node)
      return node
    },
    async stop() {
      for (const r of replicas) await r.stop()
      await order.stop()
      await Promise.all([loyalty.stop(), favorites.stop(), customer.stop()])
      await Promise.all([dropSchema(order.env), dropSchema(loyalty.env), dropSchema(favorites.env), dropSchema(customer.env)])
    },
  }
}

export const latte = (quantity = 1, memberCustomerId = ''): OrderLineInput => ({
  quantity,
  memberCustomerId,
  item: {
    $case: 'drink',
    value: {
      menuItemId: MENU_IDS.latte,
      customization: {
        size: DrinkSize.DRINK_SIZE_MEDIUM,
        milk: MilkType.MILK_TYPE_OAT,
        extraShots: 0,
        syrups: [],
        temperature: 0,
        sweetness: 0,
      },
    },
  },
})
export const usual = (memberCustomerId = ''): OrderLineInput => ({ quantity: 1, memberCustomerId, item: { $case: 'usual', value: {} } })

export function placeRequest(customerId: string, overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return { requestId: randomUUID(), customerId, lines: [latte()], rewardIds: [], note: '', ...overrides }
}

export const place = (client: OrderServiceClient, request: PlaceOrderRequest) =>
  unary<{ order?: Order }>((cb) => client.placeOrder(request, cb)).then((r) => r.order!)
