import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { Code, ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect'
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DrinkSize, MilkType } from '@brewmesh/gen/es/brewmesh/common/v1/drink_pb.js'
import { CustomerService } from '@brewmesh/gen/es/brewmesh/customer/v1/customer_service_pb.js'
import { LoyaltyService } from '@brewmesh/gen/es/brewmesh/loyalty/v1/loyalty_service_pb.js'
import { OrderStatus } from '@brewmesh/gen/es/brewmesh/order/v1/order_pb.js'
import { OrderService } from '@brewmesh/gen/es/brewmesh/order/v1/order_service_pb.js'
import { MENU_IDS } from '@brewmesh/order/test/support.ts'
import { startEdge } from '../src/app.ts'
import { readConfig } from '../src/config.ts'
import { startEdgeOverMesh, type EdgeUnderTest } from './support.ts'
import { createLogger } from '@brewmesh/runtime/logger'

let t: EdgeUnderTest
beforeAll(async () => {
  t = await startEdgeOverMesh({ EDGE_CORS_ORIGINS: 'https://family.example' })
})
afterAll(async () => {
  await t?.stop()
})

const withToken =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set('authorization', `Bearer ${token}`)
    return next(req)
  }

const transports = (url: string, token: string): Record<string, Transport> => ({
  grpc: createGrpcTransport({ baseUrl: url, interceptors: [withToken(token)] }),
  'grpc-web': createGrpcWebTransport({ baseUrl: url, httpVersion: '1.1', interceptors: [withToken(token)] }),
  'connect over HTTP/2': createConnectTransport({ baseUrl: url, httpVersion: '2', interceptors: [withToken(token)] }),
  'connect over HTTP/1.1': createConnectTransport({ baseUrl: url, httpVersion: '1.1', interceptors: [withToken(token)] }),
})

/** A port nothing listens on: an upstream that is down. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('the edge on one port', () => {
  it('answers GetCustomer the same over gRPC, gRPC-Web and Connect (HTTP/1.1 and HTTP/2)', async () => {
    const { customer, token } = await t.newCustomer()
    for (const [protocol, transport] of Object.entries(transports(t.url, token))) {
      const answer = await createClient(CustomerService, transport).getCustomer({ id: customer.id })
      expect(answer.customer?.id, protocol).toBe(customer.id)
    }
  })

  it('counts and times calls like the services, by method, code and protocol, and shows each upstream up', async () => {
    const { customer, token } = await t.newCustomer()
    await createClient(CustomerService, transports(t.url, token)['grpc-web']!).getCustomer({ id: customer.id })
    const metrics = await (await fetch(`http://127.0.0.1:${t.edge.metricsPort}/metrics`)).text()
    expect(metrics).toMatch(
      /edge_service_requests_total\{[^}]*method="CustomerService\/GetCustomer"[^}]*code="OK"[^}]*protocol="grpc-web"[^}]*\} [1-9]/,
    )
    expect(metrics).toMatch(/edge_service_duration_seconds_count\{[^}]*method="CustomerService\/GetCustomer"/)
    expect(metrics).toMatch(/edge_upstream_up\{[^}]*upstream="loyalty"[^}]*\} 1/)
  })

  it('streams an order from PLACED to READY to a Connect caller over HTTP/1.1, as a browser would', async () => {
    const { customer, token } = await t.newCustomer()
    const orders = createClient(OrderService, transports(t.url, token)['connect over HTTP/1.1']!)
    const barista = await t.clientAs(OrderService, { sub: 'barista-edge', roles: ['barista'] })
    const { order } = await orders.placeOrder({
      requestId: randomUUID(),
      customerId: customer.id,
      lines: [
        {
          quantity: 1,
          item: {
            case: 'drink',
            value: { menuItemId: MENU_IDS.latte, customization: { size: DrinkSize.MEDIUM, milk: MilkType.OAT } },
          },
        },
      ],
    })
    const seen: OrderStatus[] = []
    const watching = new AbortController()
    for await (const change of orders.watchOrder({ id: order!.id }, { signal: watching.signal })) {
      const status = change.order!.status
      if (seen.at(-1) !== status) seen.push(status)
      if (status === OrderStatus.PAID) await barista.advanceOrder({ id: order!.id, expectedStatus: status }) // PREPARING, then READY
      if (status === OrderStatus.PREPARING) await barista.advanceOrder({ id: order!.id, expectedStatus: status })
      if (status === OrderStatus.READY) break
    }
    watching.abort()
    expect(seen).toEqual(expect.arrayContaining([OrderStatus.PAID, OrderStatus.PREPARING, OrderStatus.READY]))
    expect(seen.at(-1)).toBe(OrderStatus.READY)
  })

  it('answers a CORS preflight for a configured origin, and refuses one from elsewhere', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.url}/brewmesh.order.v1.OrderService/PlaceOrder`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      })
    const allowed = await preflight('https://family.example')
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://family.example')
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/i)
    expect((await preflight('https://elsewhere.example')).status).toBe(403)
  })
})

describe('an upstream that is down', () => {
  it('fails only its own routes, with UNAVAILABLE, and the edge stays ready for the others', async () => {
    const at = (port: number) => `127.0.0.1:${port}`
    const edge = await startEdge(
      readConfig({
        ...t.issuer.env,
        EDGE_HOST: '127.0.0.1',
        EDGE_PORT: '0',
        METRICS_PORT: '0',
        CUSTOMER_SERVICE_ADDR: at(t.mesh.customer.app.grpcPort),
        FAVORITES_SERVICE_ADDR: at(t.mesh.favorites.app.grpcPort),
        ORDER_SERVICE_ADDR: t.mesh.order.address,
        LOYALTY_SERVICE_ADDR: at(await closedPort()),
      }),
      { log: createLogger({ level: 'silent', service: 'edge', instanceId: 'test' }) },
    )
    try {
      const url = `http://127.0.0.1:${edge.port}`
      const { customer, token } = await t.newCustomer()
      const transport = transports(url, token)['connect over HTTP/1.1']!
      const failure = await createClient(LoyaltyService, transport)
        .getAccount({ customerId: customer.id })
        .catch((err: unknown) => ConnectError.from(err))
      expect(failure).toBeInstanceOf(ConnectError)
      expect((failure as ConnectError).code).toBe(Code.Unavailable)
      expect((failure as ConnectError).rawMessage).toContain('loyalty')
      expect((await createClient(CustomerService, transport).getCustomer({ id: customer.id })).customer?.id).toBe(customer.id)
      const ready = await fetch(`${url}/readyz`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toEqual({ upstreams: { customer: true, order: true, loyalty: false, favorites: true } })
    } finally {
      await edge.stop()
    }
  })
})
