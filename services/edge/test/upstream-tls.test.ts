import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@connectrpc/connect'
import { createConnectTransport } from '@connectrpc/connect-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CustomerService } from '@brewmesh/gen/es/brewmesh/customer/v1/customer_service_pb.js'
import { createLogger } from '@brewmesh/runtime/logger'
import { testIssuer } from '@brewmesh/testkit/tokens.ts'
import { startEdge, type Edge } from '../src/app.ts'
import { readConfig } from '../src/config.ts'
import { startFakeCustomer } from './fake-upstream.ts'

// A self-signed certificate for localhost, made with openssl for this file only: it is both the
// upstream's server certificate and the CA the edge is told to trust.
const dir = mkdtempSync(join(tmpdir(), 'edge-tls-'))
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
  '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
  '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
], { stdio: 'ignore' }) // prettier-ignore

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

let upstream: Awaited<ReturnType<typeof startFakeCustomer>>
let edge: Edge
let token: string
beforeAll(async () => {
  // A stand-in Customer service speaking gRPC over TLS, as the services do in production.
  upstream = await startFakeCustomer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) })
  const issuer = await testIssuer()
  token = await issuer.mint({ sub: 'ops-1', roles: ['operator'] })
  edge = await startEdge(
    readConfig({
      ...issuer.env,
      EDGE_HOST: '127.0.0.1',
      EDGE_PORT: '0',
      METRICS_PORT: '0',
      CUSTOMER_SERVICE_ADDR: `localhost:${upstream.port}`,
      OUTBOUND_TLS_CA_FILE: join(dir, 'cert.pem'),
    }),
    { log: createLogger({ level: 'silent', service: 'edge', instanceId: 'test' }) },
  )
})
afterAll(async () => {
  await edge?.stop()
  await upstream?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('the edge calling a service over TLS (OUTBOUND_TLS_CA_FILE)', () => {
  it('verifies the upstream with the CA and forwards the call with its token, remaining deadline and trace context', async () => {
    const transport = createConnectTransport({ baseUrl: `http://127.0.0.1:${edge.port}`, httpVersion: '1.1' })
    const answer = await createClient(CustomerService, transport).getCustomer(
      { id: 'c-1' },
      { headers: { authorization: `Bearer ${token}`, traceparent: TRACEPARENT }, timeoutMs: 5000 },
    )
    expect(answer.customer?.firstName).toBe('Ada')
    expect(upstream.seen.authorization).toBe(`Bearer ${token}`)
    expect(upstream.seen.timeoutMs).toBeGreaterThan(0)
    expect(upstream.seen.timeoutMs).toBeLessThanOrEqual(5000)
    // Tracing is off in this process: the caller's context passes through unchanged.
    expect(upstream.seen.traceparent).toBe(TRACEPARENT)
  })
})
