import { randomUUID } from 'node:crypto'
import type { MenuItem } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import type { Clients } from './clients.ts'

/** A customer of the world, and what the load may order for them. */
export interface Member {
  id: string
  householdId: string
  /** A pinned favorite: their "my usual" lines resolve through the Favorites service. */
  hasUsual: boolean
}

export interface World {
  members: Member[]
  /** Menu drinks that come in sizes (the ones every reward applies to). */
  drinks: MenuItem[]
}

/** Loyalty's "1.00 off" (400 points), seeded by its migration. */
export const DOLLAR_OFF = '7a1c3e10-0002-4a6b-9d1e-3f2a1b000002'

/** Enough points that reward orders are never refused for the balance during a run. */
const GRANT = '1000000'

/**
 * Households of two or three members; every other member pins a favorite; everyone gets points
 * once Loyalty has opened their account (from the CustomerCreated event).
 */
export async function createWorld(c: Clients, households: number): Promise<World> {
  const drinks = (await c.orders[0]!.listMenuItems({ pageSize: 100, pageToken: '', category: '', availableOnly: true })).items.filter(
    (m) => m.sizes.length > 0,
  )
  const tag = randomUUID().slice(0, 8)
  const members: Member[] = []
  for (let h = 0; h < households; h++) {
    const householdId = randomUUID()
    for (let m = 0; m < 2 + (h % 2); m++) {
      const name = `f${tag}${h}${m}`
      const { customer } = await c.customer.createCustomer({
        requestId: randomUUID(),
        username: name,
        displayName: `Member ${h}.${m}`,
        firstName: 'Member',
        lastName: `Household${h}`,
        email: `${name}@example.com`,
        phone: '',
        preferences: undefined,
        dietaryRestrictions: [],
        householdId,
      })
      members.push({ id: customer!.id, householdId, hasUsual: members.length % 2 === 0 })
    }
  }
  for (const [i, member] of members.entries()) {
    if (!member.hasUsual) continue
    const drink = drinks[i % drinks.length]!
    await c.favorites.addFavorite({
      requestId: randomUUID(),
      customerId: member.id,
      menuItemId: drink.id,
      displayName: drink.name,
      customization: undefined,
      nickname: '',
      position: undefined,
      pinned: true,
    })
  }
  for (const member of members) {
    await eventually(() => c.loyalty.getAccount({ customerId: member.id }), { timeoutMs: 60_000, intervalMs: 250 })
    await c.loyalty.adjustPoints({ requestId: randomUUID(), customerId: member.id, points: GRANT, reason: 'fault suite grant' })
  }
  return { members, drinks }
}
