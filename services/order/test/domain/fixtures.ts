import { DrinkSize, MilkType, Temperature, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import type { MenuItem, Order, OrderLine } from '../../src/domain/order.ts'
import type { CustomerFact } from '../../src/domain/ports.ts'

// Plain domain values for the unit tests: no I/O, no contract messages.

export const T0 = new Date('2026-01-05T09:00:00.000Z')

export const customization = (c: Partial<DrinkCustomization> = {}): DrinkCustomization => ({
  size: DrinkSize.DRINK_SIZE_MEDIUM,
  milk: MilkType.MILK_TYPE_WHOLE,
  extraShots: 0,
  syrups: [],
  temperature: Temperature.TEMPERATURE_HOT,
  sweetness: 0,
  ...c,
})

/** A latte as the first migration seeds it: 4.50, sizes −0.50 / 0 / +0.60, oat 0.70, syrups 0.60, shots 0.80. */
export function latteItem(overrides: Partial<MenuItem> = {}): MenuItem {
  return {
    id: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f601',
    name: 'Caffè Latte',
    description: '',
    category: 'espresso',
    currency: 'USD',
    basePrice: 450,
    sizes: [
      { size: DrinkSize.DRINK_SIZE_SMALL, priceDelta: -50, volumeMl: 240 },
      { size: DrinkSize.DRINK_SIZE_MEDIUM, priceDelta: 0, volumeMl: 355 },
      { size: DrinkSize.DRINK_SIZE_LARGE, priceDelta: 60, volumeMl: 470 },
    ],
    allowed: {
      milks: [
        { milk: MilkType.MILK_TYPE_WHOLE, surcharge: 0 },
        { milk: MilkType.MILK_TYPE_OAT, surcharge: 70 },
      ],
      syrups: [
        { name: 'vanilla', displayName: 'Vanilla', surcharge: 60 },
        { name: 'caramel', displayName: 'Caramel', surcharge: 60 },
      ],
      maxExtraShots: 4,
      extraShotPrice: 80,
      temperatures: [Temperature.TEMPERATURE_HOT, Temperature.TEMPERATURE_ICED],
      sweetnessAdjustable: true,
      maxSyrups: 3,
    },
    recipe: customization(),
    available: true,
    sortOrder: 1,
    tags: [],
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  }
}

export function line(id: string, member: string, lineTotal: number, quantity = 1): OrderLine {
  return {
    id,
    menuItemId: latteItem().id,
    menuItemName: 'Caffè Latte',
    category: 'espresso',
    customization: customization(),
    quantity,
    unitPrice: lineTotal / quantity,
    lineTotal,
    memberCustomerId: member,
    memberDisplayName: `member ${member.slice(0, 4)}`,
    source: 'menu',
    favoriteId: '',
  }
}

export const PAYER = '11111111-1111-4111-8111-111111111111'

/** A placed single order of one latte (5.20 + 8.25 % tax), version 1. */
export function placedOrder(overrides: Partial<Order> = {}): Order {
  return {
    id: '0a0a0a0a-0000-4000-8000-000000000001',
    customerId: PAYER,
    householdId: '',
    customerDisplayName: 'Ada',
    kind: 'single',
    status: 'placed',
    currency: 'USD',
    lines: [line('0a0a0a0a-0000-4000-8000-0000000000a1', PAYER, 520)],
    subtotal: 520,
    discount: 0,
    tax: 43,
    total: 563,
    taxRateBps: 825,
    appliedRewards: [],
    payment: {
      status: 'pending',
      amount: 563,
      processorReference: '',
      declineReason: '',
      refundedAmount: undefined,
      processedAt: undefined,
      refundedAt: undefined,
    },
    memberBreakdowns: [],
    note: '',
    baristaId: '',
    claimedAt: undefined,
    cancelReason: '',
    cancelCode: undefined,
    cancelledBy: undefined,
    requestId: 'req-1',
    version: 1,
    entered: { placed: T0 },
    updatedAt: T0,
    ...overrides,
  }
}

/** A customer fact at `version` (display name "v<version>", active, no household). */
export const customerFact = (id: string, version: number, f: Partial<CustomerFact> = {}): CustomerFact => ({
  id,
  displayName: `v${version}`,
  householdId: '',
  active: true,
  deleted: false,
  version,
  ...f,
})
