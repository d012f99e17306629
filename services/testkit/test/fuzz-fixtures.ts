import { ROLES, type World, type WorldIds } from '../src/fuzz/world.ts'

// A world with fixed ids for the fuzzer's tests without servers.

export const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
const drink = (n: number) => ({ id: uuid(n), name: 'Latte', category: 'espresso', size: 'DRINK_SIZE_MEDIUM', syrup: 'vanilla' })
export const ids: WorldIds = {
  ada: uuid(1),
  grace: uuid(2),
  alan: uuid(3),
  householdA: uuid(4),
  householdB: uuid(5),
  toDelete: uuid(6),
  toDeactivate: uuid(7),
  adaAddress: uuid(8),
  addressToDelete: uuid(9),
  latte: drink(10),
  drink: drink(11),
  dollarOff: uuid(12),
  pinned: uuid(13),
  favorite: uuid(14),
  favoriteToRemove: uuid(15),
  adaRevision: 3,
  paidOrder: uuid(16),
  completedOrder: uuid(17),
  cancelledOrder: uuid(18),
  orderToCancel: uuid(19),
  paidLine: uuid(20),
  redemption: uuid(21),
  ledgerEntry: uuid(22),
  barista: 'fuzz-barista',
}
export const world: World = {
  ids,
  tokens: Object.fromEntries(ROLES.map((r) => [r, `token-${r}`])) as World['tokens'],
  pool: {
    ids: [ids.ada, ids.paidOrder, ids.latte.id].map((value) => ({ value, label: 'real id' })),
    pageTokens: [{ value: 'eyJhZnRlciI6MSwiZiI6ImFiYyJ9', label: 'real page token', request: 'brewmesh.order.v1.ListOrdersRequest' }],
    numbers: [{ value: 3n, label: 'revision' }],
  },
}
export const NOW = Date.UTC(2026, 10, 29)
