import { describe, expect, it } from 'vitest'
import { GetCustomerRequest, UpdateCustomerRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { ListOrdersRequest, PlaceOrderRequest } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { decodeStrictly, requestTypeOf, violationsOf } from '../src/grpc/contract.ts'

const PLACE = 'brewmesh.order.v1.PlaceOrderRequest'
const place = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest =>
  PlaceOrderRequest.fromPartial({
    requestId: 'r-1',
    customerId: '8f14e45f-ceea-467f-a0e6-7b2b4f3a9c10',
    lines: [{ quantity: 1, memberCustomerId: '', item: { $case: 'usual', value: {} } }],
    ...overrides,
  })

describe('the contract limits every request is checked against', () => {
  it('when a request keeps within them, then there is no violation', () => {
    expect(violationsOf(PLACE, place())).toEqual([])
  })

  it('when a string is longer than the default 256 characters, then its field is named, never its value', () => {
    const violations = violationsOf(PLACE, place({ customerId: 'x'.repeat(257) }))
    expect(violations).toEqual([{ field: 'customer_id', description: 'must be at most 256 characters' }])
    expect(JSON.stringify(violations)).not.toContain('xxx')
  })

  it('counts characters, not UTF-16 units: 256 emoji are within the limit', () => {
    expect(violationsOf(PLACE, place({ customerId: '☕'.repeat(256) }))).toEqual([])
    expect(violationsOf(PLACE, place({ customerId: '🍩'.repeat(256) }))).toEqual([])
    expect(violationsOf(PLACE, place({ customerId: '🍩'.repeat(257) }))).toHaveLength(1)
  })

  it('when a string holds a NUL character, then it is refused wherever it is nested', () => {
    const request = place({
      note: 'a\0b',
      lines: [
        {
          quantity: 1,
          memberCustomerId: '',
          item: {
            $case: 'drink',
            value: {
              menuItemId: 'm\0',
              customization: { size: 0, milk: 0, extraShots: 0, syrups: ['ok', 'x\0'], temperature: 0, sweetness: 0 },
            },
          },
        },
      ],
    })
    expect(violationsOf(PLACE, request).map((v) => v.field)).toEqual([
      'lines[0].drink.menu_item_id',
      'lines[0].drink.customization.syrups[1]',
      'note',
    ])
  })

  it('when a repeated field has more than 100 elements, then it is refused without checking each', () => {
    const lines = Array.from({ length: 101 }, () => ({ quantity: 1, memberCustomerId: '\0', item: undefined }))
    expect(violationsOf(PLACE, place({ lines }))).toEqual([{ field: 'lines', description: 'must have at most 100 elements' }])
  })

  it('when a timestamp is outside 1970 to 9999, or not a time at all, then it is refused', () => {
    const type = 'brewmesh.order.v1.ListOrdersRequest'
    expect(violationsOf(type, ListOrdersRequest.fromPartial({ placedAfter: new Date('2026-01-01T00:00:00Z') }))).toEqual([])
    expect(violationsOf(type, ListOrdersRequest.fromPartial({ placedAfter: new Date(-1) })).map((v) => v.field)).toEqual(['placed_after'])
    expect(violationsOf(type, ListOrdersRequest.fromPartial({ placedBefore: new Date(Number.NaN) })).map((v) => v.field)).toEqual([
      'placed_before',
    ])
  })

  it('checks the paths of a field mask', () => {
    const request = UpdateCustomerRequest.fromPartial({ updateMask: ['display_name', 'x'.repeat(300)] })
    expect(violationsOf('brewmesh.customer.v1.UpdateCustomerRequest', request)).toEqual([
      { field: 'update_mask.paths[1]', description: 'must be at most 256 characters' },
    ])
  })

  it('when a string arrived as bytes that are not valid UTF-8, then it is refused instead of read as U+FFFD', () => {
    // GetCustomerRequest { id = 1 } with the bytes FF FE: not UTF-8.
    const invalid = decodeStrictly((b) => GetCustomerRequest.decode(b), Buffer.from([0x0a, 0x02, 0xff, 0xfe]))
    expect(violationsOf('brewmesh.customer.v1.GetCustomerRequest', invalid)).toEqual([{ field: 'id', description: 'is not valid UTF-8' }])
    // A U+FFFD the caller really sent (valid UTF-8) is text like any other.
    const valid = decodeStrictly((b) => GetCustomerRequest.decode(b), Buffer.from(GetCustomerRequest.encode({ id: '\uFFFD' }).finish()))
    expect(violationsOf('brewmesh.customer.v1.GetCustomerRequest', valid)).toEqual([])
  })

  it('knows the request type of every RPC path', () => {
    expect(requestTypeOf('/brewmesh.order.v1.OrderService/PlaceOrder')).toBe(PLACE)
  })
})
