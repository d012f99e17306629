import { describe, expect, it } from 'vitest'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka'
import { orderCompleted, paymentProcessed, testOrder, type ContractMessage } from '@brewmesh/testkit/contract-events.ts'
import { completedOrderReceived } from '../src/events/order-completed.consumer.ts'

// Favorites acts on OrderCompleted only. The other order events are skipped by their event-type
// header, without decoding them (event.proto: the headers let consumers route without decoding).
const received = (m: ContractMessage, value: Buffer = m.value, headers: Record<string, string> = m.headers): ReceivedMessage => ({
  topic: 'brewmesh.order.events.v1',
  partition: 0,
  message: { key: Buffer.from(m.key), value, headers, timestamp: '0', attributes: 0, offset: '0' },
})
/** Not an OrderEvent: field 31 with wire type 7, which no decoder accepts. */
const unreadable = Buffer.from([0xff, 0xff, 0xff])
const order = testOrder({ customerId: '7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b' })

describe('the order events Favorites reads', () => {
  it('when an OrderCompleted arrives, then it is read as the completed order', () => {
    expect(completedOrderReceived(received(orderCompleted(order)))).toMatchObject({ orderId: order.id, customerId: order.customerId })
  })

  it('when another event arrives, then it is skipped unread: even a value no decoder accepts is not poison', () => {
    expect(completedOrderReceived(received(paymentProcessed(order, true), unreadable))).toBeUndefined()
  })

  it('when an OrderCompleted cannot be decoded, then it is poison', () => {
    expect(() => completedOrderReceived(received(orderCompleted(order), unreadable))).toThrow(PoisonMessage)
  })

  it('when a message has no event-type header, then it is decoded to learn its type', () => {
    const { 'event-type': _type, ...untyped } = orderCompleted(order).headers
    expect(completedOrderReceived(received(orderCompleted(order), undefined, untyped))).toMatchObject({ orderId: order.id })
    expect(() => completedOrderReceived(received(paymentProcessed(order, true), unreadable, untyped))).toThrow(PoisonMessage)
  })
})
