import { describe, expect, it } from 'vitest'
import type { Address, Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { Activity_Kind, WatchCustomerResponse_ChangeKind as Kind } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { FanOut } from '@brewmesh/runtime/streams'
import { followActivity, publishActivity, type FeedEvent, type FeedTarget } from '../src/events/feed.ts'
import { summarize, summarizeLoyalty, summarizeOrder, toActivity } from '../src/events/activities.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { watchUpdate } from '../src/grpc/watch-customer.ts'

const CUSTOMER_ID = '0c5e2f4a-1b3d-4e6f-8a9b-0c1d2e3f4a5b'
const OTHER_ID = '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a'
const HOUSEHOLD = '3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f'
const OCCURRED = new Date('2025-06-01T12:00:00.000Z')

const customer = (overrides: Partial<Customer> = {}): Customer => ({
  id: CUSTOMER_ID,
  username: 'ada_l',
  displayName: 'Ada',
  firstName: 'Ada',
  lastName: 'Lovelace',
  email: 'ada@example.com',
  phone: '',
  preferences: undefined,
  dietaryRestrictions: [],
  householdId: HOUSEHOLD,
  active: true,
  registeredAt: OCCURRED,
  lastLoginAt: undefined,
  version: 3,
  updatedAt: OCCURRED,
  ...overrides,
})

const address = (overrides: Partial<Address> = {}): Address => ({
  id: '9b1c2d3e-4f50-4a1b-9c2d-3e4f5a6b7c8d',
  customerId: CUSTOMER_ID,
  street: 'Rua Augusta 1',
  city: 'Lisbon',
  stateProvince: 'Lisboa',
  postalCode: '1100-048',
  countryCode: 'PT',
  label: 'home',
  createdAt: OCCURRED,
  updatedAt: OCCURRED,
  ...overrides,
})

const event = (payload: CustomerEvent['payload'], overrides: Partial<CustomerEvent> = {}): CustomerEvent => ({
  ...CustomerEvent.fromPartial({
    metadata: { eventId: 'evt-1', eventType: 'brewmesh.customer.v1.Test', occurredAt: OCCURRED, source: 'customer', traceparent: '' },
    customerId: CUSTOMER_ID,
    householdId: HOUSEHOLD,
    version: 3,
  }),
  payload,
  ...overrides,
})

const changes = [
  { field: 'display_name', oldValue: 'Ada', newValue: 'Countess' },
  { field: 'email', oldValue: 'ada@example.com', newValue: 'countess@example.com' },
]

describe('watchUpdate', () => {
  it('when a customer is updated, then the update carries the customer, its changes and the event time', () => {
    const c = customer({ displayName: 'Countess' })
    expect(watchUpdate(event({ $case: 'updated', value: { customer: c, changes } }))).toEqual({
      kind: Kind.CHANGE_KIND_UPDATED,
      customer: c,
      changes,
      changedAt: OCCURRED,
    })
  })

  it.each([
    ['activated', Kind.CHANGE_KIND_ACTIVATED],
    ['deactivated', Kind.CHANGE_KIND_DEACTIVATED],
    ['deleted', Kind.CHANGE_KIND_DELETED],
  ] as const)('when the customer is %s, then the matching kind is sent with the customer and no changes', ($case, kind) => {
    const c = customer({ active: $case === 'activated' })
    const payload = (
      $case === 'deactivated' ? { $case, value: { customer: c, reason: 'moved' } } : { $case, value: { customer: c } }
    ) as CustomerEvent['payload']
    expect(watchUpdate(event(payload))).toEqual({ kind, customer: c, changes: [], changedAt: OCCURRED })
  })

  it('when an address is added or removed, then an address change without a customer is sent', () => {
    for (const $case of ['addressAdded', 'addressRemoved'] as const) {
      expect(watchUpdate(event({ $case, value: { address: address() } }))).toEqual({
        kind: Kind.CHANGE_KIND_ADDRESS_CHANGED,
        customer: undefined,
        changes: [],
        changedAt: OCCURRED,
      })
    }
  })

  it('when an address is updated, then the address change carries the field changes', () => {
    const addressChanges = [{ field: 'addresses[x].city', oldValue: 'Porto', newValue: 'Lisbon' }]
    expect(watchUpdate(event({ $case: 'addressUpdated', value: { address: address(), changes: addressChanges } }))).toEqual({
      kind: Kind.CHANGE_KIND_ADDRESS_CHANGED,
      customer: undefined,
      changes: addressChanges,
      changedAt: OCCURRED,
    })
  })

  it('when a customer is created or the payload is missing, then there is nothing for a watcher', () => {
    expect(watchUpdate(event({ $case: 'created', value: { customer: customer() } }))).toBeUndefined()
    expect(watchUpdate(event(undefined))).toBeUndefined()
  })

  it('when the event has no metadata, then changedAt is undefined', () => {
    expect(watchUpdate(event({ $case: 'deleted', value: { customer: customer() } }, { metadata: undefined }))?.changedAt).toBeUndefined()
  })
})

describe('summarize', () => {
  it.each([
    ['created', { $case: 'created', value: { customer: customer() } }, 'profile created'],
    ['updated', { $case: 'updated', value: { customer: customer(), changes } }, 'display_name, email changed'],
    ['deleted', { $case: 'deleted', value: { customer: customer() } }, 'profile deleted'],
    ['activated', { $case: 'activated', value: { customer: customer() } }, 'profile activated'],
    [
      'deactivated with a reason',
      { $case: 'deactivated', value: { customer: customer(), reason: 'moved away' } },
      'profile deactivated: moved away',
    ],
    ['deactivated without a reason', { $case: 'deactivated', value: { customer: customer(), reason: '' } }, 'profile deactivated'],
    ['an address added', { $case: 'addressAdded', value: { address: address() } }, 'address added in Lisbon'],
    ['an address added without its address', { $case: 'addressAdded', value: { address: undefined } }, 'address added in unknown city'],
    [
      'an address updated',
      {
        $case: 'addressUpdated',
        value: { address: address(), changes: [{ field: 'addresses[a].city', oldValue: 'Porto', newValue: 'Lisbon' }] },
      },
      'address addresses[a].city changed',
    ],
    ['an address removed', { $case: 'addressRemoved', value: { address: address() } }, 'address removed'],
    ['no payload', undefined, 'profile changed'],
  ] as [string, CustomerEvent['payload'], string][])('when the event is %s, then the summary reads as expected', (_, payload, summary) => {
    expect(summarize(event(payload))).toBe(summary)
  })
})

describe('toActivity', () => {
  it('when an event is mapped, then the activity carries its ids, time, summary and the event itself', () => {
    const e = event(
      { $case: 'activated', value: { customer: customer() } },
      { metadata: { ...event(undefined).metadata!, eventId: 'evt-42' } },
    )
    expect(toActivity(e)).toEqual({
      activityId: 'evt-42',
      customerId: CUSTOMER_ID,
      householdId: HOUSEHOLD,
      kind: Activity_Kind.KIND_PROFILE,
      summary: 'profile activated',
      occurredAt: OCCURRED,
      detail: { $case: 'customerEvent', value: e },
    })
  })

  it('when the event has no metadata, then the activity id is empty and the time unset', () => {
    const activity = toActivity(event({ $case: 'created', value: { customer: customer() } }, { metadata: undefined }))
    expect(activity.activityId).toBe('')
    expect(activity.occurredAt).toBeUndefined()
  })
})

describe('the activity feed (a FanOut by customer and household)', () => {
  const feed = (overrides: Partial<CustomerEvent> = {}): FeedEvent => {
    const e = event({ $case: 'activated', value: { customer: customer() } }, overrides)
    return { activity: toActivity(e), event: e }
  }
  /** The feed as the consumers publish to it and the streams follow it. */
  class ActivityBus {
    private readonly fan = new FanOut<FeedEvent>()
    publish = (e: FeedEvent) => publishActivity(this.fan, e)
    subscribe = (target: FeedTarget, listener: (e: FeedEvent) => void) => followActivity(this.fan, target, listener)
    get listenerCount() {
      return this.fan.listenerCount
    }
  }

  it('when a customer subscriber exists, then it gets that customer events and not others', () => {
    const bus = new ActivityBus()
    const got: FeedEvent[] = []
    bus.subscribe({ customerId: CUSTOMER_ID }, (e) => got.push(e))
    const mine = feed()
    bus.publish(mine)
    bus.publish(feed({ customerId: OTHER_ID, householdId: '' }))
    expect(got).toEqual([mine])
  })

  it('when a household subscriber exists, then it gets events of every member of that household', () => {
    const bus = new ActivityBus()
    const got: string[] = []
    bus.subscribe({ householdId: HOUSEHOLD }, (e) => got.push(e.activity.customerId))
    bus.publish(feed({ customerId: CUSTOMER_ID }))
    bus.publish(feed({ customerId: OTHER_ID }))
    bus.publish(feed({ customerId: OTHER_ID, householdId: '' }))
    bus.publish(feed({ customerId: OTHER_ID, householdId: '11111111-1111-4111-8111-111111111111' }))
    expect(got).toEqual([CUSTOMER_ID, OTHER_ID])
  })

  it('when one listener is subscribed to the customer and its household, then it gets each event once', () => {
    const bus = new ActivityBus()
    let calls = 0
    const listener = () => void (calls += 1)
    bus.subscribe({ customerId: CUSTOMER_ID }, listener)
    bus.subscribe({ householdId: HOUSEHOLD }, listener)
    bus.publish(feed())
    expect(calls).toBe(1)
  })

  it('when two listeners subscribe the two ways, then each gets the event', () => {
    const bus = new ActivityBus()
    const got: string[] = []
    bus.subscribe({ customerId: CUSTOMER_ID }, () => got.push('customer'))
    bus.subscribe({ householdId: HOUSEHOLD }, () => got.push('household'))
    bus.publish(feed())
    expect(got).toEqual(['customer', 'household'])
  })

  it('when a listener unsubscribes, then it gets no more events and the others still do', () => {
    const bus = new ActivityBus()
    const got: string[] = []
    const unsubscribe = bus.subscribe({ customerId: CUSTOMER_ID }, () => got.push('a'))
    bus.subscribe({ customerId: CUSTOMER_ID }, () => got.push('b'))
    bus.publish(feed())
    unsubscribe()
    bus.publish(feed())
    expect(got).toEqual(['a', 'b', 'b'])
  })

  it('when listeners subscribe and unsubscribe, then listenerCount counts each subscription', () => {
    const bus = new ActivityBus()
    const listener = () => {}
    expect(bus.listenerCount).toBe(0)
    const a = bus.subscribe({ customerId: CUSTOMER_ID }, listener)
    const b = bus.subscribe({ householdId: HOUSEHOLD }, listener)
    const c = bus.subscribe({ customerId: OTHER_ID }, () => {})
    expect(bus.listenerCount).toBe(3)
    a()
    b()
    expect(bus.listenerCount).toBe(1)
    c()
    expect(bus.listenerCount).toBe(0)
  })

  it('when a stale unsubscribe is called again after a new subscriber arrived, then the new subscriber still gets events', () => {
    const bus = new ActivityBus()
    const got: string[] = []
    const first = bus.subscribe({ customerId: CUSTOMER_ID }, () => got.push('first'))
    first()
    bus.subscribe({ customerId: CUSTOMER_ID }, () => got.push('second'))
    first()
    bus.publish(feed())
    expect(got).toEqual(['second'])
  })

  it('when the same listener subscribes twice to one target, then it counts once', () => {
    const bus = new ActivityBus()
    const listener = () => {}
    bus.subscribe({ customerId: CUSTOMER_ID }, listener)
    bus.subscribe({ customerId: CUSTOMER_ID }, listener)
    expect(bus.listenerCount).toBe(1)
  })
})

describe('order and loyalty activity lines', () => {
  it('says what happened to an order, and leaves out events a feed does not show', () => {
    const order = { id: 'o1', lines: [{ quantity: 2 }, { quantity: 1 }], total: { amountMinor: '1126', currencyCode: 'USD' } }
    const e = (payload: unknown) => OrderEvent.fromPartial({ orderId: 'o1', customerId: 'c1', payload: payload as OrderEvent['payload'] })
    expect(summarizeOrder(e({ $case: 'placed', value: { order } }))).toBe('order placed: 3 drinks, 11.26 USD')
    expect(summarizeOrder(e({ $case: 'paymentProcessed', value: { approved: false, declineReason: 'card declined' } }))).toBe(
      'payment declined: card declined',
    )
    expect(summarizeOrder(e({ $case: 'statusChanged', value: { status: 4 } }))).toBe('order ready for pickup')
    expect(summarizeOrder(e({ $case: 'assignmentChanged', value: {} }))).toBeUndefined()
  })

  it('says what happened to points and rewards', () => {
    const e = (payload: unknown) => LoyaltyEvent.fromPartial({ customerId: 'c1', payload: payload as LoyaltyEvent['payload'] })
    expect(summarizeLoyalty(e({ $case: 'pointsRedeemed', value: { rewardName: '1.00 off', points: '400' } }))).toBe(
      'redeemed 1.00 off for 400 points',
    )
    expect(summarizeLoyalty(e({ $case: 'rewardAvailable', value: { name: 'Free drink' } }))).toBe('reward available: Free drink')
    expect(summarizeLoyalty(e({ $case: 'accountOpened', value: {} }))).toBeUndefined()
  })
})
