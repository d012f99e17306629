import { credentials, status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportCustomersRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { HealthCheckResponse_ServingStatus as Serving, HealthService } from '@brewmesh/gen/grpc/health/v1/health.ts'
import { createClient, type PromiseClient } from '@brewmesh/sdk/client.ts'
import { retryDelayOf } from '@brewmesh/sdk/errors.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { failure, pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { cleanup, createCustomer, customerEnv, startCustomer, type Running } from './support.ts'

// Two calls at once, none waiting; one open stream.
const env = customerEnv({
  ADMISSION_MAX_IN_FLIGHT: '2',
  ADMISSION_MAX_QUEUED: '0',
  ADMISSION_MAX_STREAMS: '1',
  ADMISSION_RETRY_AFTER_MS: '300',
})
let svc: Running
let health: PromiseClient<typeof HealthService>
beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false })
  health = createClient(HealthService, svc.address, credentials.createInsecure())
})
afterAll(async () => {
  health?.close()
  await svc?.stop()
  await cleanup(env)
})

const servingStatus = () => health.check({ service: 'brewmesh.customer.v1.CustomerService' }).then((r) => r.status)

/** An import left open: a client-streaming call holds its slot until it is half-closed. */
function openImport() {
  const rows = pushable<ImportCustomersRequest>()
  return { rows, done: svc.client.importCustomers(rows) }
}

describe('admission control', () => {
  it('when every slot is taken, then a call is refused at once with RESOURCE_EXHAUSTED and RetryInfo, health stays SERVING, and the slot is usable again once freed', async () => {
    const customer = await createCustomer(svc.client)
    const imports = [openImport(), openImport()]
    // Both imports have reached the handler once the server counts them.
    await eventually(async () => {
      const err = await failure(svc.client.getCustomer({ id: customer.id }))
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED)
      expect(err.details).toMatch(/calls are in progress/)
      const delay = retryDelayOf(err)
      expect(delay).toBeGreaterThanOrEqual(300)
      expect(delay).toBeLessThanOrEqual(450)
    })
    expect(await servingStatus()).toBe(Serving.SERVING)

    for (const { rows } of imports) rows.end()
    await Promise.all(imports.map((i) => i.done))
    const read = await svc.client.getCustomer({ id: customer.id })
    expect(read.customer?.id).toBe(customer.id)
  })

  it('when the stream bound is reached, then another stream is refused while unary calls still get through', async () => {
    const customer = await createCustomer(svc.client)
    const first = new AbortController()
    const snapshot = new StreamReader(svc.client.watchCustomer({ id: customer.id }, { signal: first.signal }))
    expect(await snapshot.next()).toBeDefined()

    const refused = await new StreamReader(svc.client.watchCustomer({ id: customer.id })).end()
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED)
    expect(retryDelayOf(refused)).toBeGreaterThan(0)
    expect((await svc.client.getCustomer({ id: customer.id })).customer?.id).toBe(customer.id)
    first.abort()
  })
})
