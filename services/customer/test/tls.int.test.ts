import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { credentials, status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { bearer } from '@brewmesh/testkit/tokens.ts'
import { cleanup, createCustomer, customerEnv, STAFF, startCustomer, type Running } from './support.ts'

// A self-signed certificate for 127.0.0.1, made with openssl for this file only.
const dir = mkdtempSync(join(tmpdir(), 'brewmesh-tls-'))
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
  '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
], { stdio: 'ignore' }) // prettier-ignore
const env = customerEnv({ GRPC_TLS_CERT_FILE: join(dir, 'cert.pem'), GRPC_TLS_KEY_FILE: join(dir, 'key.pem') })
let svc: Running
beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false, tls: readFileSync(join(dir, 'cert.pem')) })
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
  rmSync(dir, { recursive: true, force: true })
})

describe('TLS on the gRPC server', () => {
  it('serves clients that trust its certificate and refuses plaintext', async () => {
    const c = await createCustomer(svc.client)
    expect(c.id).toBeTruthy()
    const token = await svc.issuer.mint(STAFF)
    const plaintext = createClient(CustomerServiceService, svc.address, credentials.createInsecure(), { interceptors: [bearer(token)] })
    const err = await failure(plaintext.getCustomer({ id: c.id }, { deadline: Date.now() + 3000 }))
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(err.code)
    plaintext.close()
  })
})
