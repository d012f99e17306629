import { randomUUID } from 'node:crypto'
import type { JsonObject } from '@bufbuild/protobuf'
import { eventually } from '../env.ts'
import type { TestIssuer } from '../tokens.ts'
import type { JsonRpc } from './json-rpc.ts'
import { meshServices } from './contract.ts'
import { SEEDS } from './seeds.ts'
import type { Labelled, PageToken, Pool } from './values.ts'

/** The callers the fuzzer sends as: staff of each role, two services, and one real customer. */
export const ROLES = ['operator', 'support', 'barista', 'order-service', 'identity-service', 'customer'] as const
export type Role = (typeof ROLES)[number]

/** The real things the seed requests name (ids as the services assigned them). */
export interface WorldIds {
  /** Ada and Grace share household A; Ada's token is the customer token. Alan is in household B. */
  ada: string
  grace: string
  alan: string
  householdA: string
  householdB: string
  /** Customers meant to be deleted and deactivated by the seeds. */
  toDelete: string
  toDeactivate: string
  adaAddress: string
  addressToDelete: string
  /** A drink with syrups (one of its sizes and syrups named), and a second drink. */
  latte: MenuDrink
  drink: MenuDrink
  dollarOff: string
  /** Ada's pinned favorite (her usual), another of hers, and Grace's. */
  pinned: string
  favorite: string
  favoriteToRemove: string
  adaRevision: number
  /** PAID (in the barista queue), COMPLETED, CANCELLED, and PAID to be cancelled by the seeds. */
  paidOrder: string
  completedOrder: string
  cancelledOrder: string
  orderToCancel: string
  paidLine: string
  redemption: string
  ledgerEntry: string
  /** The barista the barista token names. */
  barista: string
}

export interface MenuDrink {
  id: string
  name: string
  category: string
  /** A size and a syrup the menu allows for it (empty when it allows none). */
  size: string
  syrup: string
}

export interface World {
  tokens: Record<Role, string>
  ids: WorldIds
  pool: Pool
}

const BARISTA = 'fuzz-barista'
// How long an effect that travels through Kafka (an account opened from customer-created, a
// payment) may take: seconds when the machine is idle, minutes when it is overloaded (a consumer
// group joining the shared broker took over a minute at load 28 on two cores).
const WAIT_MS = 180_000
const DOLLAR_OFF = '7a1c3e10-0002-4a6b-9d1e-3f2a1b000002'
const str = (v: unknown) => (typeof v === 'string' ? v : '')

/**
 * Builds a small world through the public RPCs: a household of two and one of one, addresses,
 * points, a pinned favorite, orders in each final and open state. Its ids, page tokens and
 * revisions become the pool fuzzed requests draw real values from.
 */
export async function buildWorld(rpc: JsonRpc, issuer: TestIssuer): Promise<World> {
  const mint = (sub: string, roles: string[], household_id?: string) =>
    issuer.mint({ sub, roles, ...(household_id ? { household_id } : {}) }, { expiresIn: 12 * 3600 })
  const op = await mint('fuzz-operator', ['operator'])
  const tag = randomUUID().slice(0, 8)
  const householdA = randomUUID()
  const householdB = randomUUID()

  const customer = async (name: string, household: string) => {
    const created = await rpc(
      'customer',
      'CreateCustomer',
      {
        request_id: randomUUID(),
        username: `${name}_${tag}`,
        display_name: name,
        first_name: name,
        last_name: 'Fuzz',
        email: `${name}.${tag}@example.com`,
        phone: '+14155550123',
        household_id: household,
        dietary_restrictions: ['DIETARY_RESTRICTION_VEGAN'],
      },
      op,
    )
    return str((created['customer'] as JsonObject)['id'])
  }
  const ada = await customer('ada', householdA)
  const grace = await customer('grace', householdA)
  const alan = await customer('alan', householdB)
  const toDelete = await customer('del', householdB)
  const toDeactivate = await customer('off', householdB)

  const address = async (label: string) =>
    str(
      (
        (
          await rpc(
            'customer',
            'CreateAddress',
            {
              address: {
                customer_id: ada,
                street: '12 Analytical Row',
                city: 'London',
                state_province: 'LDN',
                postal_code: 'N1 9GU',
                country_code: 'GB',
                label,
              },
            },
            op,
          )
        )['address'] as JsonObject
      )['id'],
    )
  const adaAddress = await address('home')
  const addressToDelete = await address('old')

  // Accounts open from the customer-created events.
  for (const id of [ada, grace])
    await eventually(() => rpc('loyalty', 'GetAccount', { customer_id: id }, op), { timeoutMs: WAIT_MS, intervalMs: 200 })
  await rpc('loyalty', 'AdjustPoints', { request_id: randomUUID(), customer_id: ada, points: '100000', reason: 'fuzz world' }, op)
  await rpc('loyalty', 'AdjustPoints', { request_id: randomUUID(), customer_id: grace, points: '600', reason: 'fuzz world' }, op)

  const menu = ((await rpc('order', 'ListMenuItems', { page_size: 100, available_only: true }, op))['items'] ?? []) as JsonObject[]
  const item = (m: JsonObject): MenuDrink => ({
    id: str(m['id']),
    name: str(m['name']),
    category: str(m['category']),
    size: str(((m['sizes'] as JsonObject[] | undefined) ?? [])[0]?.['size']),
    syrup: str((((m['allowed'] as JsonObject | undefined)?.['syrups'] as JsonObject[] | undefined) ?? [])[0]?.['name']),
  })
  const withSyrups = menu.find((m) => ((m['allowed'] as JsonObject | undefined)?.['syrups'] as unknown[] | undefined)?.length)
  if (!withSyrups || menu.length < 2) throw new Error('the menu has no drink with syrups to build the world with')
  const latte = item(withSyrups)
  const drink = item(menu.find((m) => m !== withSyrups)!)

  const favorite = async (customerId: string, what: MenuDrink, pinned: boolean, syrups: string[]) =>
    str(
      (
        (
          await eventually(
            () =>
              rpc(
                'favorites',
                'AddFavorite',
                {
                  request_id: randomUUID(),
                  customer_id: customerId,
                  menu_item_id: what.id,
                  display_name: what.name,
                  customization: syrups.length > 0 ? { syrups } : {},
                  nickname: 'fuzz',
                  pinned,
                },
                op,
              ),
            { timeoutMs: WAIT_MS, intervalMs: 200 },
          )
        )['favorite'] as JsonObject
      )['favorite_id'],
    )
  const pinned = await favorite(ada, latte, true, [])
  const other = await favorite(ada, drink, false, [])
  const favoriteToRemove = await favorite(grace, latte, false, latte.syrup ? [latte.syrup] : [])

  const barista = await mint(BARISTA, ['barista'])
  const place = async (customerId: string, line: JsonObject, rewards: string[] = []) => {
    const placed = await rpc(
      'order',
      'PlaceOrder',
      { request_id: randomUUID(), customer_id: customerId, lines: [line], reward_ids: rewards, note: 'fuzz world' },
      op,
    )
    const order = placed['order'] as JsonObject
    const id = str(order['id'])
    await eventually(
      async () => {
        const status = ((await rpc('order', 'GetOrder', { id }, op))['order'] as JsonObject)['status']
        if (status !== 'ORDER_STATUS_PAID') throw new Error(`order ${id} is ${JSON.stringify(status)}`)
      },
      { timeoutMs: WAIT_MS, intervalMs: 100 },
    )
    return order
  }
  const paid = await place(ada, { quantity: 1, usual: {} }, [DOLLAR_OFF])
  const completed = await place(ada, { quantity: 2, drink: { menu_item_id: drink.id } })
  for (const expected of ['ORDER_STATUS_PAID', 'ORDER_STATUS_PREPARING', 'ORDER_STATUS_READY'])
    await rpc('order', 'AdvanceOrder', { id: str(completed['id']), expected_status: expected }, barista)
  const cancelled = await place(grace, { quantity: 1, drink: { menu_item_id: latte.id } })
  await rpc('order', 'CancelOrder', { request_id: randomUUID(), id: str(cancelled['id']), reason: 'fuzz world' }, op)
  const toCancel = await place(ada, { quantity: 1, drink: { menu_item_id: latte.id } })

  const ids: WorldIds = {
    ada,
    grace,
    alan,
    householdA,
    householdB,
    toDelete,
    toDeactivate,
    adaAddress,
    addressToDelete,
    latte,
    drink,
    dollarOff: DOLLAR_OFF,
    pinned,
    favorite: other,
    favoriteToRemove,
    adaRevision: 0,
    paidOrder: str(paid['id']),
    completedOrder: str(completed['id']),
    cancelledOrder: str(cancelled['id']),
    orderToCancel: str(toCancel['id']),
    paidLine: str(((paid['lines'] as JsonObject[] | undefined) ?? [])[0]?.['id']),
    redemption: str(((paid['applied_rewards'] as JsonObject[] | undefined) ?? [])[0]?.['redemption_id']),
    ledgerEntry: '',
    barista: BARISTA,
  }
  const reads = await readBack(rpc, ids, op)
  ids.adaRevision = reads.adaRevision
  ids.ledgerEntry = reads.ledgerEntry
  const tokens: Record<Role, string> = {
    operator: op,
    support: await mint('fuzz-support', ['support']),
    barista,
    'order-service': await mint('order', ['service']),
    'identity-service': await mint('identity', ['service']),
    customer: await mint(ada, ['customer'], householdA),
  }
  return { tokens, ids, pool: { ids: idPool(ids), pageTokens: reads.pageTokens, numbers: reads.numbers } }
}

/** Page tokens of real listings (one item per page), revisions and versions, a ledger entry id. */
async function readBack(rpc: JsonRpc, ids: WorldIds, op: string) {
  const pageTokens: PageToken[] = []
  // A token of every listing, for its own seed request: a token is only good with the filters it
  // was given for, and a forged one should get as far as the real one does.
  for (const service of meshServices())
    for (const method of service.desc.methods) {
      const fields = method.input.fields.map((f) => f.name)
      const [request] = SEEDS[`${service.name}/${method.name}`]?.(ids, randomUUID) ?? []
      if (method.methodKind !== 'unary' || !fields.includes('page_token') || !fields.includes('page_size') || !request) continue
      const value = str((await rpc(service.name, method.name, { ...request, page_size: 1 }, op))['next_page_token'])
      if (value) pageTokens.push({ value, label: `real ${method.name} page token`, request: method.input.typeName })
    }
  const favorites = await rpc('favorites', 'ListFavorites', { customer_id: ids.ada }, op)
  const ledger = await rpc('loyalty', 'ListTransactions', { customer_id: ids.ada, page_size: 1 }, op)
  const adaRevision = Number(favorites['revision'] ?? 0)
  const version = Number(((await rpc('customer', 'GetCustomer', { id: ids.ada }, op))['customer'] as JsonObject)['version'] ?? 1)
  const numbers: Labelled<bigint>[] = [
    { value: BigInt(adaRevision), label: "Ada's favorites revision" },
    { value: BigInt(adaRevision + 1), label: "Ada's favorites revision + 1" },
    { value: BigInt(version), label: "Ada's customer version" },
  ]
  const ledgerEntry = str(((ledger['entries'] as JsonObject[] | undefined) ?? [])[0]?.['id'])
  return { pageTokens, numbers, adaRevision, ledgerEntry }
}

function idPool(ids: WorldIds): Labelled<string>[] {
  const named: [string, string][] = [
    [ids.ada, 'customer id (Ada, the token customer)'],
    [ids.grace, 'customer id (Grace, same household)'],
    [ids.alan, 'customer id (Alan, other household)'],
    [ids.toDeactivate, 'customer id (to deactivate)'],
    [ids.toDelete, 'customer id (to delete)'],
    [ids.householdA, 'household id (A)'],
    [ids.householdB, 'household id (B)'],
    [ids.adaAddress, 'address id'],
    [ids.latte.id, 'menu item id'],
    [ids.drink.id, 'menu item id'],
    [ids.dollarOff, 'reward id'],
    [ids.pinned, 'favorite id (pinned)'],
    [ids.favorite, 'favorite id'],
    [ids.paidOrder, 'order id (PAID)'],
    [ids.completedOrder, 'order id (COMPLETED)'],
    [ids.cancelledOrder, 'order id (CANCELLED)'],
    [ids.paidLine, 'order line id'],
    [ids.redemption, 'redemption id'],
    [ids.ledgerEntry, 'ledger entry id'],
    [ids.barista, 'barista id'],
  ]
  return named.filter(([value]) => value !== '').map(([value, label]) => ({ value, label }))
}
