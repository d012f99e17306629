import { describe, expect, it } from 'vitest'
import { toOutboxMessage } from '../src/events/order-events.ts'
import { placedOrder, T0 } from './domain/fixtures.ts'

describe('order events as outbox messages', () => {
  it.each([
    [true, 'approved'],
    [false, 'declined'],
  ])('a payment processed with approved=%s carries the header event-outcome=%s, for the operators count', (approved, outcome) => {
    const message = toOutboxMessage('orders', { kind: 'payment_processed', order: placedOrder(), approved, at: T0 })
    expect(message.headers?.['event-type']).toBe('brewmesh.order.v1.PaymentProcessed')
    expect(message.headers?.['event-outcome']).toBe(outcome)
  })

  it('other events carry no outcome', () => {
    const message = toOutboxMessage('orders', { kind: 'placed', order: placedOrder(), at: T0 })
    expect(message.headers?.['event-type']).toBe('brewmesh.order.v1.OrderPlaced')
    expect(message.headers).not.toHaveProperty('event-outcome')
  })
})
