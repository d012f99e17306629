import { Code, ConnectError, createClient } from '@connectrpc/connect'
import { createConnectTransport } from '@connectrpc/connect-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CustomerService } from '@brewmesh/gen/es/brewmesh/customer/v1/customer_service_pb.js'
import { createLogger } from '@brewmesh/runtime/logger'
import { edgeRetryDelayOf } from '@brewmesh/sdk/edge-errors.ts'
import { testIssuer, type TestIssuer } from '@brewmesh/testkit/tokens.ts'
import { startEdge, type Edge } from '../src/app.ts'
import { readConfig } from '../src/config.ts'
import { startFakeCustomer } from './fake-upstream.ts'

let upstream: Awaited<ReturnType<typeof startFakeCustomer>>
let edge: Edge
let issuer: TestIssuer
beforeAll(async () => {
  upstream = await startFakeCustomer()
  issuer = await testIssuer()
  edge = await startEdge(
    readConfig({
      ...issuer.env,
      EDGE_HOST: '127.0.0.1',
      EDGE_PORT: '0',
      METRICS_PORT: '0',
      CUSTOMER_SERVICE_ADDR: `127.0.0.1:${upstream.port}`,
      EDGE_RATE_LIMIT_PER_SECOND: '1',
      EDGE_RATE_LIMIT_BURST: '3',
      EDGE_MAX_MESSAGE_BYTES: '1024',
    }),
    { log: createLogger({ level: 'silent', service: 'edge', instanceId: 'test' }) },
  )
})
afterAll(async () => {
  await edge?.stop()
  await upstream?.stop()
})

const customers = () =>
  createClient(CustomerService, createConnectTransport({ baseUrl: `http://127.0.0.1:${edge.port}`, httpVersion: '1.1' }))
const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => {
      throw new Error('expected the call to be refused')
    },
    (err: unknown) => ConnectError.from(err),
  )

// One edge for the file; its rate limit (burst 3) is per client address and these calls all come
// from 127.0.0.1, so the tests run in order and the limit is the last one.
describe('what the edge refuses before a service sees it', () => {
  it('a bad token: UNAUTHENTICATED with the reason', async () => {
    const expired = await issuer.mint({ sub: 'ops-1', roles: ['operator'] }, { expiresIn: -60 })
    const failure = await failureOf(customers().getCustomer({ id: 'c-1' }, { headers: { authorization: `Bearer ${expired}` } }))
    expect(failure.code).toBe(Code.Unauthenticated)
    expect(upstream.seen.calls).toBe(0)
  })

  it('a request larger than EDGE_MAX_MESSAGE_BYTES: RESOURCE_EXHAUSTED', async () => {
    const token = await issuer.mint({ sub: 'ops-1', roles: ['operator'] })
    const failure = await failureOf(customers().getCustomer({ id: 'x'.repeat(4096) }, { headers: { authorization: `Bearer ${token}` } }))
    expect(failure.code).toBe(Code.ResourceExhausted)
    expect(upstream.seen.calls).toBe(0)
  })

  it('a client over its rate: RESOURCE_EXHAUSTED with a RetryInfo delay the SDK reads', async () => {
    const token = await issuer.mint({ sub: 'ops-1', roles: ['operator'] })
    const call = () => customers().getCustomer({ id: 'c-1' }, { headers: { authorization: `Bearer ${token}` } })
    let failure: ConnectError | undefined
    for (let i = 0; i < 5 && !failure; i++) failure = await call().then(() => undefined, ConnectError.from)
    expect(failure?.code).toBe(Code.ResourceExhausted)
    expect(edgeRetryDelayOf(failure)).toBeGreaterThan(0)
  })
})
