import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect'
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-web'
import { CustomerService } from '@brewmesh/gen/es/brewmesh/customer/v1/customer_service_pb.js'
import { FavoritesService } from '@brewmesh/gen/es/brewmesh/favorites/v1/favorites_service_pb.js'
import { LoyaltyService } from '@brewmesh/gen/es/brewmesh/loyalty/v1/loyalty_service_pb.js'
import { OrderService } from '@brewmesh/gen/es/brewmesh/order/v1/order_service_pb.js'

export { CustomerService, FavoritesService, LoyaltyService, OrderService }

export interface EdgeOptions {
  /** Where the edge answers, e.g. `https://api.brewmesh.example` or `http://localhost:8080`. */
  baseUrl: string
  /** The bearer token sent on every call: a string, or a function asked before each call (refresh). */
  token?: string | (() => string | Promise<string>)
  /** `connect` (JSON, readable in the browser's network tab; the default) or `grpc-web` (binary). */
  protocol?: 'connect' | 'grpc-web'
  /** Extra interceptors (logging, tracing headers). */
  interceptors?: Interceptor[]
}

/** The four services through the edge: unary calls return promises, server streams are async iterables. */
export interface EdgeClients {
  customers: Client<typeof CustomerService>
  orders: Client<typeof OrderService>
  loyalty: Client<typeof LoyaltyService>
  favorites: Client<typeof FavoritesService>
}

/**
 * Clients of the edge for browsers (and any runtime with fetch): Connect or gRPC-Web over
 * fetch, so they work over HTTP/1.1 from a web page. Server streams (WatchOrder) work; request
 * streams do not in browsers, use the unary pairs (see the SDK README).
 *
 *   const { orders } = createEdgeClients({ baseUrl: 'http://localhost:8080', token })
 *   for await (const change of orders.watchOrder({ id })) console.log(change.order?.status)
 *
 * Failures throw ConnectError; edge-errors.ts reads its details.
 */
export function createEdgeClients(options: EdgeOptions): EdgeClients {
  const transport = edgeTransport(options)
  return {
    customers: createClient(CustomerService, transport),
    orders: createClient(OrderService, transport),
    loyalty: createClient(LoyaltyService, transport),
    favorites: createClient(FavoritesService, transport),
  }
}

/** The transport createEdgeClients uses, for a client of one service: `createClient(OrderService, edgeTransport(...))`. */
export function edgeTransport(options: EdgeOptions): Transport {
  const { token } = options
  const bearer: Interceptor = (next) => async (req) => {
    const value = typeof token === 'function' ? await token() : token
    if (value) req.header.set('authorization', `Bearer ${value}`)
    return next(req)
  }
  const settings = { baseUrl: options.baseUrl, interceptors: [bearer, ...(options.interceptors ?? [])] }
  return options.protocol === 'grpc-web' ? createGrpcWebTransport(settings) : createConnectTransport(settings)
}

export { Code, ConnectError } from '@connectrpc/connect'
export { edgeErrorReasonOf, edgeFieldViolationsOf, edgeRetryDelayOf } from './edge-errors.ts'
