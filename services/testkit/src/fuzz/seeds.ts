import type { JsonObject } from '@bufbuild/protobuf'
import type { WorldIds } from './world.ts'

/**
 * A valid request (or stream of requests) for every RPC, in proto JSON as grpcurl takes it, after
 * the README's examples and the proto comments. Mutating one field of a valid request gets a
 * fuzzed call past the first validation to the code behind it. `fresh` gives a new UUID (from the
 * call's seed) for idempotency keys and other ids that must not repeat.
 */
export type Seed = (w: WorldIds, fresh: () => string) => JsonObject[]

/** Several messages of one stream (typed one by one: each is a JsonObject of its own shape). */
const stream = (...messages: JsonObject[]) => messages

const usd = (minor: number) => ({ amount_minor: String(minor), currency_code: 'USD' })

const cart = (w: WorldIds) => ({
  items: [
    {
      line_id: 'line-1',
      menu_item_id: w.latte.id,
      name: w.latte.name,
      category: w.latte.category,
      customization: { size: w.latte.size || 'DRINK_SIZE_UNSPECIFIED' },
      quantity: 2,
      unit_price: usd(450),
      line_total: usd(900),
    },
  ],
  subtotal: usd(900),
  chosen_reward_ids: [w.dollarOff],
})

const latteLine = (w: WorldIds) => ({
  quantity: 1,
  drink: {
    menu_item_id: w.latte.id,
    customization: { ...(w.latte.size ? { size: w.latte.size } : {}), syrups: w.latte.syrup ? [w.latte.syrup] : [] },
  },
})

const newCustomer = (fresh: () => string, household: string) => {
  const name = `u_${fresh().slice(0, 8)}`
  return {
    username: name,
    display_name: 'Lin',
    first_name: 'Lin',
    last_name: 'Fuzz',
    email: `${name}@example.com`,
    phone: '+14155550124',
    household_id: household,
    preferences: { default_customization: { size: 'DRINK_SIZE_MEDIUM', milk: 'MILK_TYPE_OAT' }, likes: ['strong'], decaf_only: false },
    dietary_restrictions: ['DIETARY_RESTRICTION_VEGAN', 'DIETARY_RESTRICTION_NUT_ALLERGY'],
  }
}

/** Keyed by `<service>/<Method>`, e.g. `order/PlaceOrder`. */
export const SEEDS: Record<string, Seed> = {
  // Customer
  'customer/CreateCustomer': (w, fresh) => [{ request_id: fresh(), ...newCustomer(fresh, w.householdB) }],
  'customer/GetCustomer': (w) => [{ id: w.ada }],
  'customer/UpdateCustomer': (w) => [{ customer: { id: w.ada, display_name: 'Countess Ada' }, update_mask: 'displayName' }],
  'customer/DeleteCustomer': (w) => [{ id: w.toDelete }],
  'customer/ListCustomers': (w) => [{ household_id: w.householdA, page_size: 10, active: true }],
  'customer/ActivateCustomer': (w) => [{ id: w.toDeactivate }],
  'customer/DeactivateCustomer': (w) => [{ id: w.toDeactivate, reason: 'moved away' }],
  'customer/RecordLogin': (w) => [{ id: w.ada }],
  'customer/CreateAddress': (w) => [
    {
      address: {
        customer_id: w.ada,
        street: '1 Infinite Loop',
        city: 'Cupertino',
        state_province: 'CA',
        postal_code: '95014',
        country_code: 'US',
        label: 'work',
      },
    },
  ],
  'customer/ListAddresses': (w) => [{ customer_id: w.ada }],
  'customer/UpdateAddress': (w) => [{ address: { id: w.adaAddress, city: 'Paris', country_code: 'FR' }, update_mask: 'city,countryCode' }],
  'customer/DeleteAddress': (w) => [{ id: w.addressToDelete }],
  'customer/WatchCustomer': (w) => [{ id: w.ada }],
  'customer/ImportCustomers': (w, fresh) =>
    stream({ row_number: '1', ...newCustomer(fresh, w.householdB) }, { row_number: '2', ...newCustomer(fresh, '') }),
  'customer/ActivityFeed': (w) =>
    stream({ subscribe: { household_id: w.householdA } }, { subscribe: { customer_id: w.ada } }, { unsubscribe: { customer_id: w.ada } }),
  'customer/GetCustomerStats': (w) => [{ customer_id: w.ada }],
  'customer/WatchCustomerStats': (w) => [{ customer_id: w.ada }],

  // Favorites
  'favorites/AddFavorite': (w, fresh) => [
    {
      request_id: fresh(),
      customer_id: w.ada,
      menu_item_id: w.drink.id,
      display_name: w.drink.name,
      customization: { sweetness: 2, extra_shots: 1 },
      nickname: 'Monday fuel',
      position: 1,
      pinned: false,
    },
  ],
  'favorites/UpdateFavorite': (w) => [
    { favorite: { favorite_id: w.favorite, nickname: 'renamed', position: 0 }, update_mask: 'nickname,position' },
  ],
  'favorites/RemoveFavorite': (w) => [{ favorite_id: w.favoriteToRemove }],
  'favorites/ListFavorites': (w) => [{ customer_id: w.ada, page_size: 10 }],
  'favorites/GetUsual': (w) => [{ customer_id: w.ada }],
  'favorites/SetUsual': (w) => [{ customer_id: w.ada, favorite_id: w.pinned }],
  'favorites/WatchFavorites': (w) => [{ customer_id: w.ada, since_revision: String(w.adaRevision) }],
  'favorites/ImportFavorites': (w) =>
    stream(
      { header: { customer_id: w.ada, device_id: 'fuzz-phone' } },
      {
        row: {
          row_number: '1',
          menu_item_id: w.latte.id,
          display_name: w.latte.name,
          customization: { extra_shots: 2 },
          nickname: 'imported',
        },
      },
    ),
  'favorites/SyncFavorites': (w, fresh) =>
    stream(
      { hello: { customer_id: w.ada, device_id: 'fuzz-phone', last_revision: '0' } },
      {
        change: {
          client_change_id: fresh(),
          base_revision: String(w.adaRevision),
          add: { menu_item_id: w.drink.id, display_name: w.drink.name, customization: { extra_shots: 3 } },
        },
      },
    ),

  // Loyalty
  'loyalty/GetAccount': (w) => [{ customer_id: w.ada }],
  'loyalty/ListTransactions': (w) => [
    {
      customer_id: w.ada,
      page_size: 10,
      kinds: ['LEDGER_ENTRY_KIND_ADJUST', 'LEDGER_ENTRY_KIND_RESERVE'],
      created_after: '2020-01-01T00:00:00Z',
    },
  ],
  'loyalty/ListRewards': (w) => [{ customer_id: w.ada, only_affordable: true }],
  'loyalty/QuoteRewards': (w) => [{ customer_id: w.ada, cart: cart(w) }],
  'loyalty/RedeemReward': (w, fresh) => [
    { request_id: fresh(), customer_id: w.ada, reward_id: w.dollarOff, order_id: fresh(), cart: cart(w) },
  ],
  'loyalty/ReleaseRedemptions': (w, fresh) => [{ customer_id: w.ada, order_id: fresh(), reason: 'order not placed' }],
  'loyalty/AdjustPoints': (w, fresh) => [{ request_id: fresh(), customer_id: w.ada, points: '25', reason: 'goodwill' }],
  'loyalty/WatchAccount': (w) => [{ customer_id: w.ada }],
  'loyalty/AdjustPointsBatch': (w, fresh) =>
    stream(
      { header: { batch_id: fresh(), default_reason: 'monthly bonus' } },
      { line: { line_number: '1', line_id: fresh(), customer_id: w.ada, points: '5' } },
      { line: { line_number: '2', line_id: fresh(), customer_id: w.grace, points: '-1', reason: 'correction' } },
    ),
  'loyalty/CheckoutSession': (w, fresh) =>
    stream(
      { sequence: '1', open: { customer_id: w.ada } },
      { sequence: '2', cart: { cart: cart(w) } },
      { sequence: '3', commit: { request_id: fresh(), order_id: fresh(), cart_sequence: '2' } },
      { sequence: '4', cancel: { reason: 'customer left' } },
    ),

  // Order
  'order/PlaceOrder': (w, fresh) => [
    { request_id: fresh(), customer_id: w.ada, lines: [latteLine(w), { quantity: 1, usual: {} }], note: 'name on cup: Ada' },
  ],
  'order/GetOrder': (w) => [{ id: w.paidOrder }],
  'order/ListOrders': (w) => [
    { customer_id: w.ada, page_size: 10, statuses: ['ORDER_STATUS_PAID', 'ORDER_STATUS_COMPLETED'], placed_after: '2020-01-01T00:00:00Z' },
  ],
  'order/CancelOrder': (w, fresh) => [{ request_id: fresh(), id: w.orderToCancel, reason: 'changed my mind' }],
  'order/AdvanceOrder': (w) => [{ id: w.paidOrder, expected_status: 'ORDER_STATUS_PAID' }],
  'order/ListMenuItems': (w) => [{ category: w.latte.category, available_only: true, page_size: 5 }],
  'order/GetMenuItem': (w) => [{ id: w.latte.id }],
  'order/WatchOrder': (w) => [{ id: w.paidOrder }],
  'order/PlaceGroupOrder': (w, fresh) =>
    stream(
      { header: { request_id: fresh(), customer_id: w.ada, note: 'family order' } },
      { line: { quantity: 1, member_customer_id: w.ada, usual: {} } },
      { line: { ...latteLine(w), member_customer_id: w.grace } },
    ),
  'order/BaristaSession': (w, fresh) =>
    stream(
      { command_id: fresh(), join: { barista_id: w.barista, display_name: 'Fuzz' } },
      { command_id: fresh(), refresh: {} },
      { command_id: fresh(), claim: { order_id: w.paidOrder } },
      { command_id: fresh(), release: { order_id: w.paidOrder, reason: 'end of shift' } },
    ),
}
