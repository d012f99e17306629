import { randomUUID } from 'node:crypto'
import { credentials, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { createClient, repeatableMethods } from '../src/client.ts'

// A real grpc-js server that answers UNAVAILABLE to the first `failFirst` calls of each method,
// as a replica going away or a service saying "retry later" does, then answers.

let server: Server
let address: string
const calls = new Map<string, number>()
let failFirst = 1

function answer(method: string, response: object) {
  return (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const n = (calls.get(method) ?? 0) + 1
    calls.set(method, n)
    if (n <= failFirst) callback({ code: status.UNAVAILABLE, details: 'the database is unavailable, retry later' })
    else callback(null, response)
  }
}

beforeAll(async () => {
  server = new Server()
  server.addService(OrderServiceService, {
    getOrder: answer('getOrder', { order: undefined }),
    placeOrder: answer('placeOrder', { order: undefined }),
    advanceOrder: answer('advanceOrder', { order: undefined }),
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  address = `127.0.0.1:${port}`
})
afterAll(() => server?.forceShutdown())
beforeEach(() => {
  calls.clear()
  failFirst = 1
})

const place = { requestId: randomUUID(), customerId: randomUUID(), lines: [], rewardIds: [], note: '' }

describe('the client retry option', () => {
  it('names the reads and the unary writes that carry a request_id, never a request stream', () => {
    const names = repeatableMethods(OrderServiceService).map((p) => p.split('/')[2])
    expect(names.sort()).toEqual(
      ['CancelOrder', 'GetMenuItem', 'GetOrder', 'ListMenuItems', 'ListOrders', 'PlaceOrder', 'WatchOrder'].sort(),
    )
  })

  it('sends a repeatable call again after UNAVAILABLE, and only those', async () => {
    const client = createClient(OrderServiceService, address, credentials.createInsecure(), { retry: true })
    try {
      await client.placeOrder(place)
      await client.getOrder({ id: randomUUID() })
      // AdvanceOrder carries no request_id, so the rule does not name it (its expected_status makes a
      // repeat harmless, which the contract says in words only): its failure is the caller's to retry.
      await expect(client.advanceOrder({ id: randomUUID(), expectedStatus: 0 })).rejects.toMatchObject({ code: status.UNAVAILABLE })
      expect(Object.fromEntries(calls)).toEqual({ placeOrder: 2, getOrder: 2, advanceOrder: 1 })
    } finally {
      client.close()
    }
  })

  it('gives up after three attempts, and without the option tries once', async () => {
    failFirst = 10
    const retrying = createClient(OrderServiceService, address, credentials.createInsecure(), { retry: true })
    const plain = createClient(OrderServiceService, address, credentials.createInsecure())
    try {
      await expect(retrying.placeOrder(place)).rejects.toMatchObject({ code: status.UNAVAILABLE })
      expect(calls.get('placeOrder')).toBe(3)
      calls.clear()
      await expect(plain.placeOrder(place)).rejects.toMatchObject({ code: status.UNAVAILABLE })
      expect(calls.get('placeOrder')).toBe(1)
    } finally {
      retrying.close()
      plain.close()
    }
  })

  it('adds, with `also`, a method the contract calls safe to repeat in words', async () => {
    const client = createClient(OrderServiceService, address, credentials.createInsecure(), { retry: { also: ['AdvanceOrder'] } })
    try {
      await client.advanceOrder({ id: randomUUID(), expectedStatus: 0 })
      await client.placeOrder(place)
      expect(Object.fromEntries(calls)).toEqual({ advanceOrder: 2, placeOrder: 2 })
      expect(() => createClient(OrderServiceService, address, credentials.createInsecure(), { retry: { also: ['Nope'] } })).toThrow(
        /no method Nope/,
      )
    } finally {
      client.close()
    }
  })

  it('keeps a service config the caller gave (round robin) and adds the retries to it', async () => {
    const client = createClient(OrderServiceService, `ipv4:${address}`, credentials.createInsecure(), {
      retry: true,
      channel: { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
    })
    try {
      await client.getOrder({ id: randomUUID() })
      expect(calls.get('getOrder')).toBe(2)
    } finally {
      client.close()
    }
  })
})
