import { credentials } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HealthCheckResponse_ServingStatus as Serving, HealthService } from '@brewmesh/gen/grpc/health/v1/health.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { spans, SpanKind, type ReadableSpan } from '@brewmesh/runtime/testing/tracing'
import { eventually } from '@brewmesh/testkit/env.ts'
import { addFavorite, createCustomer, grant, heardOf, MENU_IDS, place, placeRequest, SEED, startMesh, usual, type Mesh } from './support.ts'

// Issue 7's proof: one PlaceOrder yields one trace across the Order Service, its gRPC calls,
// PostgreSQL, the Kafka produce, each consumer (the Customer service's among them) and the BullMQ
// jobs it triggers.
let mesh: Mesh
beforeAll(async () => {
  mesh = await startMesh()
})
afterAll(async () => {
  await mesh?.stop()
})

const idOf = (s: ReadableSpan) => s.spanContext().spanId

describe('one PlaceOrder, one trace', () => {
  it('reaches the other services, PostgreSQL, Kafka, every consumer and the jobs, as descendants of the PlaceOrder server span', async () => {
    const customer = await createCustomer(mesh.customer.client)
    await eventually(() => mesh.loyalty.client.getAccount({ customerId: customer.id }))
    await grant(mesh.loyalty.client, customer.id, 1000)
    await addFavorite(mesh.favorites.client, customer.id, { menuItemId: MENU_IDS.latte, pinned: true })
    // The Order Service has heard of the customer from the customer events (its customer facts).
    await eventually(async () => expect(await heardOf(mesh.order, customer.id)).toBeDefined())
    spans.reset()

    const order = await place(mesh.order.client, placeRequest(customer.id, { lines: [usual()], rewardIds: [SEED.dollarOff] }))
    const suffix = mesh.order.env['KAFKA_TOPIC_SUFFIX']!
    const topic = `${TOPICS.orderEvents}${suffix}`

    const all = await eventually(
      () => {
        const list = spans.getFinishedSpans()
        const groups = list.filter((s) => s.name === `${topic} process`).map((s) => String(s.attributes['messaging.consumer.group.name']))
        for (const group of [`loyalty${suffix}`, `favorites${suffix}`, `customer-stats${suffix}`]) expect(groups).toContain(group)
        expect(list.some((s) => s.name === 'customer-stats rollups')).toBe(true)
        expect(list.some((s) => s.name === 'payment process')).toBe(true)
        return list
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    )
    const byId = new Map(all.map((s) => [idOf(s), s]))
    const root = all.find((s) => s.name === 'grpc.brewmesh.order.v1.OrderService/PlaceOrder' && s.kind === SpanKind.SERVER)
    expect(root, 'the PlaceOrder server span').toBeDefined()
    const traceId = root!.spanContext().traceId
    const descends = (s: ReadableSpan) => {
      for (let p = s.parentSpanContext?.spanId; p; p = byId.get(p)?.parentSpanContext?.spanId) if (p === idOf(root!)) return true
      return false
    }
    const expectDescendant = (what: string, match: (s: ReadableSpan) => boolean) => {
      const found = all.filter((s) => match(s) && s.spanContext().traceId === traceId && descends(s))
      expect(found.length, what).toBeGreaterThan(0)
    }
    // A customer it has heard of is read from its customer facts: the Customer service is not asked.
    expect(all.filter((s) => s.name.endsWith('CustomerService/GetCustomer')).map((s) => s.name)).toEqual([])
    expectDescendant(
      'GetUsual on the Favorites service',
      (s) => s.name === 'grpc.brewmesh.favorites.v1.FavoritesService/GetUsual' && s.kind === SpanKind.SERVER,
    )
    expectDescendant(
      'RedeemReward on the Loyalty service',
      (s) => s.name === 'grpc.brewmesh.loyalty.v1.LoyaltyService/RedeemReward' && s.kind === SpanKind.SERVER,
    )
    expectDescendant(
      'a PostgreSQL query',
      (s) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql',
    )
    expectDescendant('the Kafka publish of OrderPlaced', (s) => s.name === `${topic} publish` && s.kind === SpanKind.PRODUCER)
    for (const group of [`loyalty${suffix}`, `favorites${suffix}`, `customer-stats${suffix}`]) {
      expectDescendant(
        `the ${group} consumer`,
        (s) => s.name === `${topic} process` && s.attributes['messaging.consumer.group.name'] === group,
      )
    }
    expectDescendant('the statistics rollup job', (s) => s.name === 'customer-stats rollups')
    expectDescendant('the payment, answered by a round over due orders', (s) => s.name === 'payment process')
    expect(order.id).toBeTruthy()
  })
})

const isDatabase = (s: ReadableSpan) => s.attributes['db.system.name'] === 'postgresql' || s.name.startsWith('pg')

describe('what makes no trace', () => {
  it('a health check and the queries nothing traced asked for (probes, pollers) make no spans: a trace starts with a request, an event or a job', async () => {
    const health = createClient(HealthService, mesh.order.address, credentials.createInsecure())
    try {
      spans.reset()
      expect((await health.check({ service: '' })).status).toBe(Serving.SERVING)
      const customer = await createCustomer(mesh.customer.client)
      await eventually(() => mesh.loyalty.client.getAccount({ customerId: customer.id }))
      await addFavorite(mesh.favorites.client, customer.id, { menuItemId: MENU_IDS.latte, pinned: true })
      await place(mesh.order.client, placeRequest(customer.id, { lines: [usual()] }))
      // Its payment: the poller's rounds over due orders and the outbox relays ran meanwhile.
      const all = await eventually(
        () => {
          const list = spans.getFinishedSpans()
          expect(list.some((s) => s.name === 'payment process')).toBe(true)
          return list
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      )
      expect(all.filter((s) => s.name.includes('grpc.health.v1') || s.name.includes('ServerReflection')).map((s) => s.name)).toEqual([])
      const inTraces = all.filter(isDatabase)
      expect(inTraces.length, 'queries of the requests, consumers and jobs are traced').toBeGreaterThan(0)
      expect(inTraces.filter((s) => !s.parentSpanContext).map((s) => s.name)).toEqual([])
    } finally {
      health.close()
    }
  })
})
