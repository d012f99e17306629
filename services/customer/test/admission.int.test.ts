import { credentials, status, type ClientWritableStream } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportCustomersRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthClient,
  type HealthCheckResponse,
} from '@brewmesh/gen/grpc/health/v1/health.ts'
import { retryDelayOf } from '@brewmesh/runtime/grpc/status.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { failure, StreamReader, unary } from '@brewmesh/testkit/grpc.ts'
import { cleanup, createCustomer, customerEnv, startCustomer, type Running } from './support.ts'

// Two calls at once, none waiting; one open stream.
const env = customerEnv({
  ADMISSION_MAX_IN_FLIGHT: '2',
  ADMISSION_MAX_QUEUED: '0',
  ADMISSION_MAX_STREAMS: '1',
  ADMISSION_RETRY_AFTER_MS: '300',
})
let svc: Running
let health: HealthClient
beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false })
  health = new HealthClient(`127.0.0.1:${svc.app.grpcPort}`, credentials.createInsecure())
})
afterAll(async () => {
  health?.close()
  await svc?.stop()
  await cleanup(env)
})

const servingStatus = () =>
  unary<HealthCheckResponse>((cb) => health.check({ service: 'brewmesh.customer.v1.CustomerService' }, cb)).then((r) => r.status)

/** An import left open: a client-streaming call holds its slot until it is half-closed. */
function openImport(): { call: ClientWritableStream<ImportCustomersRequest>; done: Promise<unknown> } {
  let call!: ClientWritableStream<ImportCustomersRequest>
  const done = new Promise((resolve, reject) => {
    call = svc.client.importCustomers((err, response) => (err ? reject(err) : resolve(response)))
  })
  return { call, done }
}

describe('admission control', () => {
  it('when every slot is taken, then a call is refused at once with RESOURCE_EXHAUSTED and RetryInfo, health stays SERVING, and the slot is usable again once freed', async () => {
    const customer = await createCustomer(svc.client)
    const imports = [openImport(), openImport()]
    // Both imports have reached the handler once the server counts them.
    await eventually(async () => {
      const err = await failure(unary((cb) => svc.client.getCustomer({ id: customer.id }, cb)))
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED)
      expect(err.details).toMatch(/calls are in progress/)
      const delay = retryDelayOf(err)
      expect(delay).toBeGreaterThanOrEqual(300)
      expect(delay).toBeLessThanOrEqual(450)
    })
    expect(await servingStatus()).toBe(Serving.SERVING)

    for (const { call } of imports) call.end()
    await Promise.all(imports.map((i) => i.done))
    const read = await unary<{ customer?: { id: string } }>((cb) => svc.client.getCustomer({ id: customer.id }, cb))
    expect(read.customer?.id).toBe(customer.id)
  })

  it('when the stream bound is reached, then another stream is refused while unary calls still get through', async () => {
    const customer = await createCustomer(svc.client)
    const first = svc.client.watchCustomer({ id: customer.id })
    const snapshot = new StreamReader(first)
    expect(await snapshot.next()).toBeDefined()

    const refused = await new StreamReader(svc.client.watchCustomer({ id: customer.id })).end()
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED)
    expect(retryDelayOf(refused)).toBeGreaterThan(0)
    expect((await unary<{ customer?: { id: string } }>((cb) => svc.client.getCustomer({ id: customer.id }, cb))).customer?.id).toBe(
      customer.id,
    )
    first.cancel()
  })
})
