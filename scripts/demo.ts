/**
 * A simulated day at the coffee shop, driven through the mesh the way its users would: households
 * and members (Customer), pinned usuals (Favorites), welcome points (Loyalty), then orders through
 * the Order Service (single and group, menu drinks and "my usual", some with a reward), paid by the
 * mock processor, made by a barista or cancelled. Prints what the mesh learned: statistics from
 * the rollups, loyalty balances, usual drinks.
 *
 *   bash scripts/up.sh && pnpm demo [--households 4] [--orders 30]
 *
 * Tokens come from the development key pair (scripts/mint-token.ts); addresses default to the
 * ports scripts/up.sh uses (ORDER_ADDR, CUSTOMER_ADDR, LOYALTY_ADDR, FAVORITES_ADDR override them).
 */
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { credentials, type ServiceError } from '@grpc/grpc-js'
import { DrinkSize, MilkType, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { CustomerServiceService, type CustomerStats } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { FavoritesServiceService } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import type { Usual } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { LoyaltyServiceService } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import type { Account } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import { OrderServiceService, type OrderLineInput } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { OrderStatus, type Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { bearerToken } from '@brewmesh/sdk/auth.ts'
import { createClient, type PromiseClient } from '@brewmesh/sdk/client.ts'

/** The SDK's promise clients of the four services. */
export interface DemoClients {
  customer: PromiseClient<typeof CustomerServiceService>
  favorites: PromiseClient<typeof FavoritesServiceService>
  loyalty: PromiseClient<typeof LoyaltyServiceService>
  order: PromiseClient<typeof OrderServiceService>
}

export interface DemoOptions {
  households: number
  orders: number
  /** Share of paid orders cancelled instead of completed (0 to 1). */
  cancelShare: number
  log: (line: string) => void
}

export interface MemberOutcome {
  customer: Customer
  /** Orders that count for the member: paid for, or with a drink for them in a group order. */
  placed: number
  completed: number
  cancelled: number
  /** Orders the member paid for. */
  paid: number
  stats: CustomerStats | undefined
  account: Account | undefined
  usual: Usual | undefined
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Deterministic choices, so a run can be repeated (seeded linear congruential generator). */
function chooser(seed: number) {
  let s = seed >>> 0
  const next = () => (s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 0x1_0000_0000
  return { next, pick: <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]! }
}

const WELCOME_POINTS = 600

async function until<T>(what: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await what().catch(() => undefined)
    if (value !== undefined || Date.now() > deadline) return value
    await sleep(200)
  }
}

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Katherine', 'Linus', 'Margaret', 'Ken', 'Radia', 'Tim']
const DOLLAR_OFF = '7a1c3e10-0002-4a6b-9d1e-3f2a1b000002'

export async function simulateDay(c: DemoClients, o: DemoOptions, seed = 7): Promise<MemberOutcome[]> {
  const r = chooser(seed)
  const menu = (await c.order.listMenuItems({ pageSize: 100, pageToken: '', category: '', availableOnly: true })).items
  const drinks = menu.filter((m) => m.sizes.length > 0)

  // Households and their members.
  const households: Customer[][] = []
  const tag = randomUUID().slice(0, 8)
  for (let h = 0; h < o.households; h++) {
    const householdId = randomUUID()
    const members: Customer[] = []
    for (let m = 0; m < 2 + (h % 3); m++) {
      const first = FIRST_NAMES[(h * 3 + m) % FIRST_NAMES.length]!
      const request = {
        requestId: randomUUID(),
        username: `${first.toLowerCase()}_${tag}_${h}${m}`,
        displayName: first,
        firstName: first,
        lastName: `Family${h}`,
        email: `${first.toLowerCase()}.${tag}.${h}${m}@example.com`,
        phone: '',
        preferences: undefined,
        dietaryRestrictions: [],
        householdId,
      }
      members.push((await c.customer.createCustomer(request)).customer!)
    }
    households.push(members)
  }
  const everyone = households.flat()
  o.log(`${households.length} households, ${everyone.length} members`)

  // Half of them pin a usual; payers get welcome points once their account is open.
  for (const [i, member] of everyone.entries()) {
    if (i % 2 !== 0) continue
    const drink = r.pick(drinks)
    const oat = drink.allowed?.milks.some((m) => m.milk === MilkType.MILK_TYPE_OAT)
    const customization: DrinkCustomization = {
      size: DrinkSize.DRINK_SIZE_MEDIUM,
      milk: oat ? MilkType.MILK_TYPE_OAT : MilkType.MILK_TYPE_UNSPECIFIED,
      extraShots: 0,
      syrups: [],
      temperature: 0,
      sweetness: 0,
    }
    const add = {
      requestId: randomUUID(),
      customerId: member.id,
      menuItemId: drink.id,
      displayName: drink.name,
      customization,
      nickname: '',
      position: undefined,
      pinned: true,
    }
    await c.favorites.addFavorite(add)
  }
  for (const members of households) {
    const payer = members[0]!
    await until(() => c.loyalty.getAccount({ customerId: payer.id }).then((a) => a.account))
    await c.loyalty.adjustPoints({ requestId: randomUUID(), customerId: payer.id, points: String(WELCOME_POINTS), reason: 'welcome bonus' })
  }

  // The day's orders.
  const placedBy = new Map<string, Order[]>()
  const lineFor = (member: Customer, withUsual: boolean): OrderLineInput =>
    withUsual
      ? { quantity: 1, memberCustomerId: member.id, item: { $case: 'usual', value: {} } }
      : {
          quantity: 1 + Math.floor(r.next() * 2),
          memberCustomerId: member.id,
          item: { $case: 'drink', value: { menuItemId: r.pick(drinks).id, customization: undefined } },
        }
  const hasUsual = (m: Customer) => everyone.indexOf(m) % 2 === 0
  for (let n = 0; n < o.orders; n++) {
    const members = r.pick(households)
    const payer = members[0]!
    const rewardIds = r.next() < 0.2 ? [DOLLAR_OFF] : []
    try {
      let order: Order
      if (members.length > 1 && r.next() < 0.25) {
        const header = {
          message: { $case: 'header' as const, value: { requestId: randomUUID(), customerId: payer.id, rewardIds, note: '' } },
        }
        const lines = members.map((m) => ({ message: { $case: 'line' as const, value: lineFor(m, hasUsual(m) && r.next() < 0.6) } }))
        order = (await c.order.placeGroupOrder([header, ...lines])).order!
      } else {
        const member = payer
        const lines = [lineFor(member, hasUsual(member) && r.next() < 0.6)]
        order = (await c.order.placeOrder({ requestId: randomUUID(), customerId: payer.id, lines, rewardIds, note: '' })).order!
      }
      placedBy.set(payer.id, [...(placedBy.get(payer.id) ?? []), order])
    } catch (err) {
      o.log(`order ${n} refused: ${(err as ServiceError).details ?? String(err)}`)
    }
  }
  o.log(`${[...placedBy.values()].flat().length} orders placed`)

  // An order counts in the statistics of its payer and of every member with a drink in it.
  const countsFor = (order: Order) => new Set([order.customerId, ...order.lines.map((l) => l.memberCustomerId || order.customerId)])
  const tally = (counts: Map<string, number>, order: Order) => {
    for (const id of countsFor(order)) counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  const placedFor = new Map<string, number>()
  for (const order of [...placedBy.values()].flat()) tally(placedFor, order)

  // Payment, then the barista (or a change of mind).
  const completed = new Map<string, number>()
  const cancelled = new Map<string, number>()
  for (const orders of placedBy.values()) {
    for (const placed of orders) {
      const paid = await until(async () => {
        const got = (await c.order.getOrder({ id: placed.id })).order
        return got && got.status !== 1 ? got : undefined
      })
      if (paid?.status === 6) {
        tally(cancelled, placed)
        continue
      }
      if (r.next() < o.cancelShare) {
        await c.order.cancelOrder({ requestId: randomUUID(), id: placed.id, reason: 'changed my mind' })
        tally(cancelled, placed)
        continue
      }
      for (const expectedStatus of [OrderStatus.ORDER_STATUS_PAID, OrderStatus.ORDER_STATUS_PREPARING, OrderStatus.ORDER_STATUS_READY])
        await c.order.advanceOrder({ id: placed.id, expectedStatus })
      tally(completed, placed)
    }
  }

  // What the mesh learned, once the rollups caught up with every order.
  const outcomes: MemberOutcome[] = []
  for (const member of everyone) {
    const placed = placedFor.get(member.id) ?? 0
    const done = completed.get(member.id) ?? 0
    const stats = await until(async () => {
      const s = (await c.customer.getCustomerStats({ customerId: member.id })).stats
      return s && Number(s.ordersPlaced) === placed && Number(s.ordersCompleted) === done ? s : undefined
    })
    const paid = placedBy.get(member.id)?.length ?? 0
    // Loyalty earns from the completions on a consumer of its own, not the statistics': a payer with
    // completed orders is read once points beyond the welcome bonus came.
    const earns = paid > 0 && done > 0
    const account = await until(
      async () => {
        const a = (await c.loyalty.getAccount({ customerId: member.id })).account
        return a && (!earns || Number(a.lifetimePoints) > WELCOME_POINTS) ? a : undefined
      },
      earns ? 30_000 : 0,
    )
    const usual = await c.favorites
      .getUsual({ customerId: member.id })
      .then((u) => u.usual)
      .catch(() => undefined)
    outcomes.push({ customer: member, placed, completed: done, cancelled: cancelled.get(member.id) ?? 0, paid, stats, account, usual })
  }
  return outcomes
}

export function printOutcomes(outcomes: MemberOutcome[], log: (line: string) => void): void {
  const usualName = (u: Usual | undefined) =>
    u?.drink?.$case === 'favorite'
      ? u.drink.value.displayName
      : u?.drink?.$case === 'learned'
        ? `${u.drink.value.displayName} (learned)`
        : '-'
  log(['member'.padEnd(22), 'placed', 'done', 'cancel', 'spent'.padStart(8), 'top drink'.padEnd(20), 'points', 'usual'].join('  '))
  for (const m of outcomes) {
    const s = m.stats
    const spent = s ? (Number(s.totalSpent?.amountMinor ?? 0) / 100).toFixed(2) : '?'
    log(
      [
        `${m.customer.displayName} ${m.customer.lastName}`.padEnd(22),
        String(s?.ordersPlaced ?? '?').padStart(6),
        String(s?.ordersCompleted ?? '?').padStart(4),
        String(s?.ordersCancelled ?? '?').padStart(6),
        spent.padStart(8),
        (s?.topDrinks[0]?.name ?? '-').padEnd(20),
        String(m.account?.balance ?? '-').padStart(6),
        usualName(m.usual),
      ].join('  '),
    )
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { households: { type: 'string', default: '4' }, orders: { type: 'string', default: '30' } } })
  const { mintDevToken } = await import('./mint-token.ts')
  // One staff identity that may do everything the day needs (support, operator, barista).
  const options = { interceptors: [bearerToken(await mintDevToken({ sub: 'demo-staff', roles: ['barista', 'support', 'operator'] }))] }
  const env = process.env
  const clients: DemoClients = {
    customer: createClient(CustomerServiceService, env['CUSTOMER_ADDR'] ?? 'localhost:50052', credentials.createInsecure(), options),
    favorites: createClient(FavoritesServiceService, env['FAVORITES_ADDR'] ?? 'localhost:50054', credentials.createInsecure(), options),
    loyalty: createClient(LoyaltyServiceService, env['LOYALTY_ADDR'] ?? 'localhost:50053', credentials.createInsecure(), options),
    order: createClient(OrderServiceService, env['ORDER_ADDR'] ?? 'localhost:50051', credentials.createInsecure(), options),
  }
  const log = (line: string) => process.stdout.write(`${line}\n`)
  const outcomes = await simulateDay(clients, {
    households: Number(values.households),
    orders: Number(values.orders),
    cancelShare: 0.1,
    log,
  })
  printOutcomes(outcomes, log)
  for (const client of [clients.customer, clients.favorites, clients.loyalty, clients.order]) client.close()
}
