import { createServer, type Server } from 'node:http'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { clientCredentials, withServiceToken } from '@brewmesh/runtime/auth/outbound.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { cleanup, createCustomer, customerEnv, startCustomer, type Running } from './support.ts'

// The Order Service's way of calling: its own identity from an OAuth2 token endpoint (client
// credentials), presented by a client interceptor on every call.
let svc: Running
let endpoint: Server
let tokenRequests = 0
let lastAuthorization = ''
let endpointUp = true
const env = customerEnv()
beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false })
  endpoint = createServer((req, res) => {
    tokenRequests += 1
    lastAuthorization = req.headers.authorization ?? ''
    if (!endpointUp) {
      res.statusCode = 503
      return res.end()
    }
    void svc.issuer.mint({ sub: 'order', roles: ['service'] }).then((token) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 600 }))
    })
  })
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
})
afterAll(async () => {
  await new Promise((resolve) => endpoint?.close(resolve))
  await svc?.stop()
  await cleanup(env)
})

const tokenUrl = () => `http://127.0.0.1:${(endpoint.address() as { port: number }).port}/oauth/token`

describe('service-to-service calls', () => {
  it('carry the service identity from client credentials, fetched once and reused', async () => {
    const c = await createCustomer(svc.client)
    const source = clientCredentials({ tokenUrl: tokenUrl(), clientId: 'order', clientSecret: 's3cret' })
    const asOrder = createClient(CustomerServiceService, svc.address, credentials.createInsecure(), {
      interceptors: [withServiceToken(source)],
    })
    const before = tokenRequests
    const results = await Promise.all(Array.from({ length: 5 }, () => asOrder.getCustomer({ id: c.id })))
    expect(results.every((r) => r.customer?.id === c.id)).toBe(true)
    expect(tokenRequests - before).toBe(1)
    expect(lastAuthorization).toBe(`Basic ${Buffer.from('order:s3cret').toString('base64')}`)
    // "order" may read customers but not change them.
    const denied = await asOrder.deactivateCustomer({ id: c.id, reason: '' }).catch((e: ServiceError) => e)
    expect((denied as ServiceError).code).toBe(status.PERMISSION_DENIED)
    asOrder.close()
  })

  it('fail UNAVAILABLE (safe to retry) when no token can be had, rather than going out unauthenticated', async () => {
    endpointUp = false
    try {
      const source = clientCredentials({ tokenUrl: tokenUrl(), clientId: 'order', clientSecret: 's3cret' })
      const asOrder = createClient(CustomerServiceService, svc.address, credentials.createInsecure(), {
        interceptors: [withServiceToken(source)],
      })
      const err = (await asOrder
        .listCustomers({ pageSize: 1, pageToken: '', householdId: '' })
        .catch((e: ServiceError) => e)) as ServiceError
      expect(err.code).toBe(status.UNAVAILABLE)
      expect(err.details).toContain('no service token')
      asOrder.close()
    } finally {
      endpointUp = true
    }
  })
})
