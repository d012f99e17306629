import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import {
  Activity_Kind,
  WatchCustomerResponse_ChangeKind as Kind,
  type ActivityFeedRequest,
  type ActivityFeedResponse,
  type ImportCustomersRequest,
  type WatchCustomerResponse,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { cleanup, createCustomer, customerEnv, newCustomerRequest, startCustomer, type Running } from './support.ts'

// Two replicas of the service on one schema and one topic: changes made through one must reach
// streams opened on the other, which only Kafka connects.
let a: Running
let b: Running
const env = customerEnv()
beforeAll(async () => {
  a = await startCustomer({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-a` })
  b = await startCustomer({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-b` }, { migrate: false })
})
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await cleanup(env)
})

const rename = (client: Running['client'], c: Customer, displayName: string) =>
  client.updateCustomer({ customer: { ...c, displayName }, updateMask: ['display_name'], expectedVersion: 0 })

describe('WatchCustomer (server streaming)', () => {
  it('sends a snapshot, then changes made through another replica, and ends after the delete', async () => {
    const c = await createCustomer(a.client)
    const watch = new StreamReader<WatchCustomerResponse>(b.client.watchCustomer({ id: c.id }))
    const snapshot = await watch.next()
    expect(snapshot).toMatchObject({ kind: Kind.CHANGE_KIND_SNAPSHOT, customer: { id: c.id, version: 1 } })

    await rename(a.client, c, 'Grace')
    const updated = await watch.next()
    expect(updated.kind).toBe(Kind.CHANGE_KIND_UPDATED)
    expect(updated.customer).toMatchObject({ displayName: 'Grace', version: 2 })
    expect(updated.changes).toEqual([{ field: 'display_name', oldValue: c.displayName, newValue: 'Grace' }])

    await a.client.deactivateCustomer({ id: c.id, reason: 'holiday' })
    expect((await watch.next()).kind).toBe(Kind.CHANGE_KIND_DEACTIVATED)

    await a.client.deleteCustomer({ id: c.id, expectedVersion: 0 })
    expect((await watch.next()).kind).toBe(Kind.CHANGE_KIND_DELETED)
    expect(await watch.end()).toBeUndefined()
  })

  it('ends with DEADLINE_EXCEEDED when the caller deadline passes, and refuses unknown ids', async () => {
    const c = await createCustomer(a.client)
    const watch = new StreamReader<WatchCustomerResponse>(a.client.watchCustomer({ id: c.id }, { deadline: Date.now() + 1500 }))
    expect((await watch.next()).kind).toBe(Kind.CHANGE_KIND_SNAPSHOT)
    expect((await watch.end())?.code).toBe(status.DEADLINE_EXCEEDED)

    const unknown = new StreamReader<WatchCustomerResponse>(a.client.watchCustomer({ id: randomUUID() }))
    expect((await unknown.end())?.code).toBe(status.NOT_FOUND)
  })
})

describe('ImportCustomers (client streaming)', () => {
  const importRows = (client: Running['client'], rows: Partial<ImportCustomersRequest>[]) =>
    client.importCustomers(rows.map((row) => ({ ...newCustomerRequest(), rowNumber: '0', ...row })))

  it('creates, updates and reports bad rows by number without stopping', async () => {
    const existing = await createCustomer(a.client)
    const other = await createCustomer(a.client)
    const summary = await importRows(a.client, [
      { rowNumber: '1' },
      { rowNumber: '2', email: 'broken' },
      { rowNumber: '3', email: existing.email.toUpperCase(), username: existing.username, displayName: 'Imported' },
      { rowNumber: '4', email: existing.email.toUpperCase(), username: existing.username, displayName: 'Imported' },
      // Valid on its own, but takes another customer's username: fails in the database, alone.
      { rowNumber: '5', email: existing.email, username: other.username },
      { rowNumber: '6' },
    ])
    expect(summary).toMatchObject({ received: '6', created: '2', updated: '1', unchanged: '1', failed: '2' })
    expect(summary.failures).toEqual([
      { rowNumber: '2', reason: expect.stringContaining('email') as string, fields: ['email'] },
      { rowNumber: '5', reason: expect.stringContaining('username') as string, fields: ['username'] },
    ])
    const after = await a.client.getCustomer({ id: existing.id })
    expect(after.customer!.displayName).toBe('Imported')
  })

  it('streams a thousand rows through one call', async () => {
    const household = randomUUID()
    const rows = Array.from({ length: 1000 }, () => ({ householdId: household }))
    const summary = await importRows(a.client, rows)
    expect(summary).toMatchObject({ received: '1000', created: '1000', failed: '0' })
  })
})

describe('ActivityFeed (bidirectional)', () => {
  /** A feed the test writes to (`call.write`) and cancels (`call.cancel`), read message by message. */
  const open = (client: Running['client']) => {
    const requests = pushable<ActivityFeedRequest>()
    const cancelled = new AbortController()
    const reader = new StreamReader<ActivityFeedResponse>(client.activityFeed(requests, { signal: cancelled.signal }))
    return { call: { write: requests.push, cancel: () => cancelled.abort() }, reader }
  }

  it('streams a household’s activity from any replica, and stops after unsubscribe', async () => {
    const household = randomUUID()
    const mum = await createCustomer(a.client, { householdId: household })
    const kid = await createCustomer(a.client, { householdId: household })
    const other = await createCustomer(a.client)
    const { call, reader } = open(b.client)

    call.write({ action: { $case: 'subscribe', value: { target: { $case: 'householdId', value: household } } } })
    const ack = await reader.next()
    expect(ack.message).toEqual({ $case: 'ack', value: expect.objectContaining({ subscribed: true, activeSubscriptions: 1 }) as object })

    await rename(a.client, kid, 'Junior')
    const activity = await reader.next()
    expect(activity.message?.$case).toBe('activity')
    if (activity.message?.$case !== 'activity') return
    expect(activity.message.value).toMatchObject({
      customerId: kid.id,
      householdId: household,
      kind: Activity_Kind.KIND_PROFILE,
      summary: 'display_name changed',
    })

    // Subscribing to a member of the household too must not duplicate their events.
    call.write({ action: { $case: 'subscribe', value: { target: { $case: 'customerId', value: mum.id } } } })
    expect((await reader.next()).message).toMatchObject({ $case: 'ack', value: { activeSubscriptions: 2 } })
    await rename(a.client, mum, 'Mum')
    expect((await reader.next()).message).toMatchObject({ $case: 'activity', value: { customerId: mum.id } })

    call.write({ action: { $case: 'unsubscribe', value: { target: { $case: 'householdId', value: household } } } })
    call.write({ action: { $case: 'unsubscribe', value: { target: { $case: 'customerId', value: mum.id } } } })
    expect((await reader.next()).message).toMatchObject({ $case: 'ack', value: { subscribed: false, activeSubscriptions: 1 } })
    expect((await reader.next()).message).toMatchObject({ $case: 'ack', value: { subscribed: false, activeSubscriptions: 0 } })
    await rename(a.client, kid, 'Junior 2')
    // The next message is for a new subscription, proving the household's later change was not sent.
    call.write({ action: { $case: 'subscribe', value: { target: { $case: 'customerId', value: other.id } } } })
    expect((await reader.next()).message).toMatchObject({ $case: 'ack', value: { activeSubscriptions: 1 } })
    await rename(a.client, other, 'Someone')
    expect((await reader.next()).message).toMatchObject({ $case: 'activity', value: { customerId: other.id } })

    call.cancel()
    expect((await reader.end())?.code).toBe(status.CANCELLED)
  })

  it('ends the stream with INVALID_ARGUMENT naming the field for a malformed subscription', async () => {
    const { call, reader } = open(a.client)
    call.write({ action: { $case: 'subscribe', value: { target: { $case: 'customerId', value: 'bob' } } } })
    const err = await reader.end()
    expect(err?.code).toBe(status.INVALID_ARGUMENT)
  })
})
