import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from '@brewmesh/runtime/db'
import { createLogger } from '@brewmesh/runtime/logger'
import { eventually } from '@brewmesh/testkit/env.ts'
import { errorReasonOf } from '@brewmesh/sdk/errors.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { customerFactsStore } from '../src/db/customer-facts-store.ts'
import type { OrderDb } from '../src/db/schema.ts'
import { customerFact as fact } from './domain/fixtures.ts'
import { createCustomer, heardOf, place, placeRequest, startMesh, type Mesh } from './support.ts'

// The Order Service keeps what placing an order needs of each customer (name, household, active)
// from the customer events, so an order does not wait on the Customer service. What it heard may be
// moments behind: it may accept an order in that moment, never refuse one on it.

let mesh: Mesh
beforeAll(async () => {
  mesh = await startMesh()
})
afterAll(async () => {
  await mesh?.stop()
})

describe('the customer facts the Order Service keeps', () => {
  it('follows the customer events: created, renamed, deactivated, deleted', async () => {
    const household = randomUUID()
    const customer = await createCustomer(mesh.customer.client, { householdId: household, displayName: 'Ana' })
    await eventually(async () =>
      expect(await heardOf(mesh.order, customer.id)).toEqual({
        display_name: 'Ana',
        household_id: household,
        active: true,
        deleted: false,
        version: customer.version,
      }),
    )
    const renamed = (
      await mesh.customer.client.updateCustomer({
        customer: { ...customer, displayName: 'Ana B.' },
        updateMask: ['display_name'],
        expectedVersion: 0,
      })
    ).customer!
    const deactivated = (await mesh.customer.client.deactivateCustomer({ id: customer.id, reason: 'moved away' })).customer!
    expect(deactivated.version).toBe(renamed.version + 1)
    await eventually(async () =>
      expect(await heardOf(mesh.order, customer.id)).toMatchObject({ display_name: 'Ana B.', active: false, version: deactivated.version }),
    )
    await mesh.customer.client.deleteCustomer({ id: customer.id, expectedVersion: 0 })
    await eventually(async () =>
      expect(await heardOf(mesh.order, customer.id)).toMatchObject({ deleted: true, version: deactivated.version + 1 }),
    )
    const gone = await failure(place(mesh.order.client, placeRequest(customer.id)))
    expect(errorReasonOf(gone)).toBe('CUSTOMER_NOT_FOUND')
  })

  it('refuses a customer once it heard of the deactivation', async () => {
    const customer = await createCustomer(mesh.customer.client)
    await mesh.customer.client.deactivateCustomer({ id: customer.id, reason: 'paused' })
    await eventually(async () => expect((await heardOf(mesh.order, customer.id))?.active).toBe(false))
    const refused = await failure(place(mesh.order.client, placeRequest(customer.id)))
    expect(errorReasonOf(refused)).toBe('CUSTOMER_INACTIVE')
  })

  it('refuses only on what the Customer service answers now, and may accept on what it heard last', async () => {
    // A deployment that hears no customer events (another topic suffix): it knows only what the
    // Customer service answered it, so what it heard stays behind every change below.
    const deaf = await mesh.startOrder({ DB_SCHEMA: `order_deaf_${randomUUID().slice(0, 8)}`, KAFKA_TOPIC_SUFFIX: `.deaf${Date.now()}` })
    const customer = await createCustomer(mesh.customer.client)
    await mesh.customer.client.deactivateCustomer({ id: customer.id, reason: 'paused' })
    expect(errorReasonOf(await failure(place(deaf.client, placeRequest(customer.id))))).toBe('CUSTOMER_INACTIVE')
    expect(await heardOf(deaf, customer.id)).toMatchObject({ active: false })
    // Reactivated: it heard "inactive", asks before refusing, and is answered "active".
    await mesh.customer.client.activateCustomer({ id: customer.id })
    expect((await place(deaf.client, placeRequest(customer.id))).customerId).toBe(customer.id)
    // Deactivated again: it heard "active" last, and accepts until it hears otherwise.
    await mesh.customer.client.deactivateCustomer({ id: customer.id, reason: 'paused again' })
    expect((await place(deaf.client, placeRequest(customer.id))).customerId).toBe(customer.id)
  })

  it('learns a customer it had not heard of from the Customer service, for their next order', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const facts = customerFactsStore(database().db)
    // As if the customer events had not reached it yet: what the consumer kept is forgotten.
    await eventually(async () => expect(await heardOf(mesh.order, customer.id)).toBeDefined())
    await database().db.deleteFrom('customer_facts').where('customer_id', '=', customer.id).execute()
    expect(await facts.heard(customer.id)).toBeUndefined()
    await place(mesh.order.client, placeRequest(customer.id))
    expect(await facts.heard(customer.id)).toMatchObject({ id: customer.id, active: true, version: customer.version })
  })
})

describe('the customer facts store', () => {
  it('keeps a fact only over a lower version, and nothing over a deletion', async () => {
    const facts = customerFactsStore(database().db)
    const id = randomUUID()
    await facts.learn([fact(id, 5)])
    await facts.learn([fact(id, 3, { active: false })])
    expect(await facts.heard(id)).toMatchObject({ version: 5, active: true, displayName: 'v5' })
    await facts.learn([fact(id, 5, { displayName: 'same version' })])
    expect((await facts.heard(id))?.displayName).toBe('v5')
    await facts.learn([fact(id, 6, { deleted: true })])
    await facts.learn([fact(id, 9)])
    expect(await facts.heard(id)).toMatchObject({ version: 6, deleted: true })
  })

  it('applies an event once: a redelivered chunk changes nothing, and a chunk keeps each customer once, at its last version', async () => {
    const facts = customerFactsStore(database().db)
    const [a, b] = [randomUUID(), randomUUID()]
    const events = [
      { eventId: randomUUID(), fact: fact(a, 1) },
      { eventId: randomUUID(), fact: fact(a, 2, { displayName: 'renamed' }) },
      { eventId: randomUUID(), fact: fact(b, 1) },
    ]
    expect(await facts.applyEvents('test-consumer', events)).toBe(3)
    expect(await facts.heard(a)).toMatchObject({ version: 2, displayName: 'renamed' })
    // The same events again, after something newer was kept: nothing is applied, nothing goes back.
    await facts.learn([fact(a, 3, { displayName: 'newer' })])
    expect(await facts.applyEvents('test-consumer', events)).toBe(0)
    expect(await facts.heard(a)).toMatchObject({ version: 3, displayName: 'newer' })
    expect(await facts.heard(b)).toMatchObject({ version: 1 })
  })
})

let opened: ReturnType<typeof createDatabase<OrderDb>> | undefined
/** A pool on the Order Service's own schema (closed after the file). */
function database() {
  opened ??= createDatabase<OrderDb>(mesh.order.config.postgres, createLogger({ level: 'silent', service: 'test', instanceId: 'test' }))
  return opened
}
afterAll(async () => {
  await opened?.stop()
})
