import { describe, expect, it } from 'vitest'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka'
import { OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { orderCompleted, orderEvent, paymentProcessed, testOrder, type ContractMessage } from '@brewmesh/testkit/contract-events.ts'
import { orderFactOf } from '../src/events/loyalty-inbox.consumer.ts'

// Loyalty acts on placed, completed and cancelled orders and on declined payments. The other order
// events (an approved payment, status and assignment changes) are skipped by their headers
// (event-type, event-outcome), without decoding them.
const received = (m: ContractMessage, value: Buffer = m.value): ReceivedMessage => ({
  topic: 'brewmesh.order.events.v1',
  partition: 0,
  message: { key: Buffer.from(m.key), value, headers: m.headers, timestamp: '0', attributes: 0, offset: '0' },
})
/** Not an OrderEvent: field 31 with wire type 7, which no decoder accepts. */
const unreadable = Buffer.from([0xff, 0xff, 0xff])
const order = testOrder({ customerId: '7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b' })
const preparing = orderEvent(
  { ...order, status: OrderStatus.ORDER_STATUS_PREPARING },
  { $case: 'statusChanged', value: { previousStatus: OrderStatus.ORDER_STATUS_PAID, status: OrderStatus.ORDER_STATUS_PREPARING } },
)

describe('the order events Loyalty reads', () => {
  it('when an order completes or a payment is declined, then each is read as its fact', () => {
    expect(orderFactOf(received(orderCompleted(order)))).toMatchObject({ kind: 'completed', orderId: order.id })
    expect(orderFactOf(received(paymentProcessed(order, false)))).toMatchObject({ kind: 'cancelled', reason: 'payment declined' })
  })

  it('when a payment is approved or the status changes, then the event is skipped unread: even a value no decoder accepts is not poison', () => {
    expect(orderFactOf(received(paymentProcessed(order, true), unreadable))).toBeUndefined()
    expect(orderFactOf(received(preparing, unreadable))).toBeUndefined()
  })

  it('when an event loyalty acts on cannot be decoded, then it is poison', () => {
    expect(() => orderFactOf(received(orderCompleted(order), unreadable))).toThrow(PoisonMessage)
    expect(() => orderFactOf(received(paymentProcessed(order, false), unreadable))).toThrow(PoisonMessage)
  })
})
