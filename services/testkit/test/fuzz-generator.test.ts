import { clone, fromBinary, toBinary, type DescMessage, type Message } from '@bufbuild/protobuf'
import { reflect } from '@bufbuild/protobuf/reflect'
import { describe, expect, it } from 'vitest'
import { buildCase, seedMessages } from '../src/fuzz/cases.ts'
import { meshServices, registry } from '../src/fuzz/contract.ts'
import { randomMessage } from '../src/fuzz/generate.ts'
import { withInvalidUtf8 } from '../src/fuzz/invalid-utf8.ts'
import { mutateMessage } from '../src/fuzz/mutate.ts'
import { Random } from '../src/fuzz/random.ts'
import { ROLES } from '../src/fuzz/world.ts'
import { ids, NOW, uuid, world } from './fuzz-fixtures.ts'

// The generator alone, no servers: determinism, well-typed output for every request type, and
// the value classes the fuzz test relies on.

const methods = meshServices().flatMap((service) => service.desc.methods.map((method) => ({ service, method })))
const message = (typeName: string): DescMessage => registry.getMessage(typeName)!
const bytes = (desc: DescMessage, m: Message) => Buffer.from(toBinary(desc, m))

describe('the fuzz generator', () => {
  it('finds the four services and every one of their methods in the descriptor set', () => {
    expect(meshServices().map((s) => s.desc.typeName)).toEqual([
      'brewmesh.customer.v1.CustomerService',
      'brewmesh.favorites.v1.FavoritesService',
      'brewmesh.loyalty.v1.LoyaltyService',
      'brewmesh.order.v1.OrderService',
    ])
    expect(methods.length).toBe(46)
  })

  it('has a seed request for every RPC that parses as its request type', () => {
    for (const { service, method } of methods) {
      const seed = seedMessages(service.name, method, ids, () => uuid(99))
      expect(seed.length, `${service.name}/${method.name}`).toBeGreaterThan(0)
    }
  })

  it('makes the same case from the same seed and index, and other cases from other seeds', () => {
    const { service, method } = methods.find((m) => m.method.name === 'PlaceOrder')!
    const wire = (seed: string, index: number) =>
      buildCase({ seed, world, now: NOW }, service, method, index, ROLES).wire.map((w) => Buffer.from(w).toString('hex'))
    expect(wire('1', 7)).toEqual(wire('1', 7))
    const others = [wire('2', 7), wire('1', 8), wire('1', 9)]
    expect(others.some((w) => JSON.stringify(w) !== JSON.stringify(wire('1', 7)))).toBe(true)
  })

  it('encodes every generated request of every RPC, and the bytes decode back to the same message', () => {
    for (const { service, method } of methods) {
      for (let index = 0; index < 60; index++) {
        const fuzzCase = buildCase({ seed: 'round-trip', world, now: NOW }, service, method, index, ROLES)
        if (fuzzCase.origin === 'invalid-utf8') continue
        for (const wire of fuzzCase.wire) expect(bytes(method.input, fromBinary(method.input, wire)).equals(wire)).toBe(true)
      }
    }
  })

  it('changes only the field a mutation names', () => {
    const place = message('brewmesh.order.v1.PlaceOrderRequest')
    const seed = seedMessages('order', methods.find((m) => m.method.name === 'PlaceOrder')!.method, ids, () => uuid(99))[0]!
    for (let i = 0; i < 300; i++) {
      const mutated = mutateMessage({ rng: Random.of(`mutation/${i}`), pool: world.pool, now: NOW }, place, seed)
      const named = mutated.path.split(/[.[]/)[0]
      for (const field of place.fields) {
        if (field.name === named) continue
        const only = (m: Message) => {
          const copy = clone(place, m)
          const r = reflect(place, copy)
          for (const other of place.fields) if (other !== field) r.clear(other)
          return bytes(place, copy)
        }
        expect(only(mutated.message).equals(only(seed)), `${mutated.path} (${mutated.label}) also changed ${field.name}`).toBe(true)
      }
    }
  })

  it('breaks exactly one string with invalid UTF-8, in place, so a strict decoder refuses it', () => {
    const create = message('brewmesh.customer.v1.CreateCustomerRequest')
    const seed = seedMessages('customer', methods.find((m) => m.method.name === 'CreateCustomer')!.method, ids, () => uuid(99))[0]!
    for (let i = 0; i < 50; i++) {
      const broken = withInvalidUtf8(Random.of(`utf8/${i}`), create, seed)!
      const valid = bytes(create, broken.message)
      expect(broken.wire.length).toBe(valid.length)
      const changed = [...broken.wire].flatMap((b, j) => (b === valid[j] ? [] : [j]))
      expect(changed.length).toBeGreaterThan(0)
      expect(changed[changed.length - 1]! - changed[0]!).toBeLessThan(12)
      expect(() => fromBinary(create, valid)).not.toThrow()
      expect(() => fromBinary(create, broken.wire)).toThrow(/utf-8/i)
    }
  })

  it('generates the value classes the contract limits are about', () => {
    const labels = new Set<string>()
    const types = [
      'brewmesh.order.v1.PlaceOrderRequest',
      'brewmesh.order.v1.ListOrdersRequest',
      'brewmesh.customer.v1.UpdateCustomerRequest',
      'brewmesh.customer.v1.ActivityFeedRequest',
      'brewmesh.favorites.v1.WatchFavoritesRequest',
      'google.rpc.ErrorInfo',
      'google.rpc.RetryInfo',
    ]
    for (const typeName of types)
      for (let i = 0; i < 400; i++)
        for (const label of randomMessage(
          { rng: Random.of(`${typeName}/${i}`), pool: world.pool, now: NOW },
          message(typeName),
        ).labels.values())
          labels.add(label)
    const seen = (pattern: RegExp) => [...labels].some((l) => pattern.test(l))
    for (const pattern of [
      /^NUL character$/,
      /one past the limit/,
      /^undeclared /,
      /10000-01-01 \(out of range\)/,
      /^nanos 10\^9/,
      /^2\^53\+1$/,
      /^2\^32$/,
      /^int32 max/,
      /^no case set$/,
      /^path display_name$/,
      /^unknown path$/,
      /^101 paths/,
      /^real id$/,
      /page token/,
      /real page token with (after|f) = /,
      /astral characters/,
      /past 10,000 years/,
    ])
      expect(seen(pattern), String(pattern)).toBe(true)
  })
})
