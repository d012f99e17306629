import { randomUUID } from 'node:crypto'
import { createClient, type Client, type Interceptor } from '@connectrpc/connect'
import { createConnectTransport } from '@connectrpc/connect-node'
import type { DescService } from '@bufbuild/protobuf'
import { CustomerService } from '@brewmesh/gen/es/brewmesh/customer/v1/customer_service_pb.js'
import type { Customer } from '@brewmesh/gen/es/brewmesh/customer/v1/customer_pb.js'
import { createLogger } from '@brewmesh/runtime/logger'
import { startMesh, type Mesh } from '@brewmesh/order/test/support.ts'
import { testIssuer, type TestIssuer, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { startEdge, type Edge } from '../src/app.ts'
import { readConfig } from '../src/config.ts'

export const HOUSEHOLD = '8f14e45f-ceea-467f-a0e6-7b2b4f3a9c10'
export const OPERATOR: TokenClaims = { sub: 'ops-edge-test', roles: ['operator'] }

/** The whole mesh in this process, with the edge in front of it on a free port. */
export interface EdgeUnderTest {
  mesh: Mesh
  edge: Edge
  /** http://127.0.0.1:<port> */
  url: string
  issuer: TestIssuer
  /** A Connect client of the edge (JSON over HTTP/1.1, like curl) calling with a token for these claims. */
  clientAs<S extends DescService>(service: S, claims: TokenClaims): Promise<Client<S>>
  /** A new customer in the test household (created through the edge by an operator), and a token for them. */
  newCustomer(): Promise<{ customer: Customer; token: string }>
  stop(): Promise<void>
}

export async function startEdgeOverMesh(extra: Record<string, string> = {}): Promise<EdgeUnderTest> {
  const mesh = await startMesh()
  const issuer = await testIssuer()
  const at = (port: number) => `127.0.0.1:${port}`
  const config = readConfig({
    ...issuer.env,
    EDGE_HOST: '127.0.0.1',
    EDGE_PORT: '0',
    METRICS_PORT: '0',
    CUSTOMER_SERVICE_ADDR: at(mesh.customer.app.grpcPort),
    FAVORITES_SERVICE_ADDR: at(mesh.favorites.app.grpcPort),
    LOYALTY_SERVICE_ADDR: at(mesh.loyalty.app.grpcPort),
    ORDER_SERVICE_ADDR: mesh.order.address,
    ...extra,
  })
  const edge = await startEdge(config, { log: createLogger({ level: 'silent', service: 'edge', instanceId: 'test' }) })
  const url = `http://127.0.0.1:${edge.port}`
  const clientAs = async <S extends DescService>(service: S, claims: TokenClaims) => {
    const token = await issuer.mint(claims)
    const auth: Interceptor = (next) => (req) => {
      req.header.set('authorization', `Bearer ${token}`)
      return next(req)
    }
    return createClient(service, createConnectTransport({ baseUrl: url, httpVersion: '1.1', interceptors: [auth] }))
  }
  const operator = await clientAs(CustomerService, OPERATOR)
  return {
    mesh,
    edge,
    url,
    issuer,
    clientAs,
    async newCustomer() {
      const tag = randomUUID().slice(0, 8)
      const { customer } = await operator.createCustomer({
        requestId: randomUUID(),
        username: `edge_${tag}`,
        displayName: 'Ada',
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: `ada.${tag}@example.com`,
        householdId: HOUSEHOLD,
      })
      const token = await issuer.mint({ sub: customer!.id, roles: ['customer'], household_id: HOUSEHOLD })
      return { customer: customer!, token }
    },
    async stop() {
      await edge.stop()
      await mesh.stop()
    },
  }
}
