import { STATS_CONSUMER } from '@brewmesh/customer/src/events/order-stats.consumer.ts'
import { OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { sqlQuery } from '@brewmesh/testkit/env.ts'
import { groupLag, messagesIn, withAdmin } from '@brewmesh/testkit/kafka.ts'
import type { Clients } from './clients.ts'
import type { Placement } from './load.ts'
import { SERVICES, type Mesh, type Service } from './mesh.ts'

/** One invariant and what breaks it (nothing when it holds). */
export interface Finding {
  check: string
  violations: string[]
}

export interface CheckInput {
  /** Every order the load asked for in this phase. */
  placements: Placement[]
  /** The phase's customers: per-customer checks look at them only. */
  customerIds: string[]
  envs: Record<Service, Record<string, string>>
  brokers: string
  topicSuffix: string
  mesh: Mesh
  clients: Clients
}

// The durable consumers, as the services declare them (the group is the name plus the topic suffix).
const FAVORITES_GROUP = 'favorites'
const LOYALTY_GROUP = 'loyalty'
const ORDER_EVENTS_TOPIC = TOPICS.orderEvents
const CUSTOMER_EVENTS_TOPIC = TOPICS.customerEvents

// orders.status holds the contract's OrderStatus numbers.
const COMPLETED: number = OrderStatus.ORDER_STATUS_COMPLETED
const CANCELLED: number = OrderStatus.ORDER_STATUS_CANCELLED
const FINAL = [COMPLETED, CANCELLED]

interface OrderRow {
  id: string
  request_id: string
  customer_id: string
  status: number
  payment_status: number
  /** Rewards applied at placement (Order.applied_rewards). */
  rewards: number
}

/** The invariants the suite asserts after the mesh settled: each effect of each order exactly once. */
export async function checkInvariants(input: CheckInput): Promise<Finding[]> {
  const { envs, customerIds } = input
  const orders = await sqlQuery<OrderRow>(
    envs.order,
    `select id::text, request_id, customer_id::text, status, payment_status,
            coalesce(jsonb_array_length(doc->'appliedRewards'), 0)::int as rewards
       from orders where customer_id = any($1::uuid[])`,
    [customerIds],
  )
  const orderById = new Map(orders.map((o) => [o.id, o]))
  const completed = orders.filter((o) => o.status === COMPLETED)
  return [
    ordersOnce(input.placements, orders),
    {
      check: 'every acknowledged order was paid or declined and ended COMPLETED or CANCELLED (no payment lost)',
      violations: input.placements
        .filter((p) => p.outcome === 'acked' && !FINAL.includes(orderById.get(p.orderId!)?.status ?? COMPLETED))
        .map(
          (p) =>
            `order ${p.orderId} is still in status ${orderById.get(p.orderId!)?.status} (payment ${orderById.get(p.orderId!)?.payment_status})`,
        ),
    },
    await pointsOnce(envs.loyalty, customerIds, orders),
    ...(await redemptionsFollowOrders(envs.loyalty, customerIds, orderById)),
    await statisticsOnce(input.clients, customerIds, orders),
    await usualsOnce(envs.favorites, customerIds, completed),
    await outboxesDrained(envs),
    ...(await kafkaCaughtUp(input.brokers, input.topicSuffix)),
    await serving(input.mesh),
  ]
}

function ordersOnce(placements: Placement[], orders: OrderRow[]): Finding {
  const violations: string[] = []
  const byRequest = new Map<string, OrderRow[]>()
  for (const o of orders) byRequest.set(o.request_id, [...(byRequest.get(o.request_id) ?? []), o])
  for (const p of placements.filter((x) => x.outcome === 'acked')) {
    const found = byRequest.get(p.requestId) ?? []
    if (found.length !== 1) violations.push(`request ${p.requestId} (acknowledged as order ${p.orderId}) has ${found.length} orders`)
    else if (found[0]!.id !== p.orderId)
      violations.push(`request ${p.requestId} was acknowledged as ${p.orderId} but stored as ${found[0]!.id}`)
  }
  const asked = new Set(placements.map((p) => p.requestId))
  for (const o of orders.filter((x) => !asked.has(x.request_id)))
    violations.push(`order ${o.id} (request ${o.request_id}) was never asked for`)
  return { check: 'every acknowledged order exists exactly once (by request_id), and no order exists that was never asked for', violations }
}

async function pointsOnce(env: Record<string, string>, customerIds: string[], orders: OrderRow[]): Promise<Finding> {
  const earns = await sqlQuery<{ order_id: string; n: number }>(
    env,
    "select order_id, count(*)::int as n from ledger_entries where kind = 'earn' and customer_id = any($1::uuid[]) group by order_id",
    [customerIds],
  )
  const earned = new Map(earns.map((e) => [e.order_id, e.n]))
  const violations = orders
    .map((o) => ({ o, n: earned.get(o.id) ?? 0, want: o.status === COMPLETED ? 1 : 0 }))
    .filter(({ n, want }) => n !== want)
    .map(({ o, n }) => `order ${o.id} (status ${o.status}) has ${n} EARN entries`)
  const known = new Set(orders.map((o) => o.id))
  for (const e of earns.filter((x) => !known.has(x.order_id))) violations.push(`EARN for an order that does not exist: ${e.order_id}`)
  return { check: 'points earned exactly once per completed order (EARN ledger entries per order)', violations }
}

async function redemptionsFollowOrders(
  env: Record<string, string>,
  customerIds: string[],
  orderById: Map<string, OrderRow>,
): Promise<Finding[]> {
  const rows = await sqlQuery<{ id: string; order_id: string; state: string }>(
    env,
    'select id::text, order_id, state from redemptions where customer_id = any($1::uuid[])',
    [customerIds],
  )
  const orphans = rows.filter((r) => r.state !== 'released' && !orderById.has(r.order_id))
  const wrong: string[] = []
  for (const order of orderById.values()) {
    const mine = rows.filter((r) => r.order_id === order.id)
    const [reserved, confirmed] = ['reserved', 'confirmed'].map((state) => mine.filter((r) => r.state === state).length) as [number, number]
    const want = order.status === COMPLETED ? order.rewards : 0
    if (confirmed !== want || (FINAL.includes(order.status) && reserved > 0))
      wrong.push(
        `order ${order.id} (status ${order.status}, ${order.rewards} reward) has ${reserved} reserved and ${confirmed} confirmed redemptions`,
      )
  }
  return [
    {
      check: 'no RESERVED redemption without its order',
      violations: orphans.map((r) => `redemption ${r.id} is ${r.state.toUpperCase()} for order ${r.order_id}, which does not exist`),
    },
    { check: "each order's reward redemption confirmed once when it completed, released when it was cancelled", violations: wrong },
  ]
}

async function statisticsOnce(clients: Clients, customerIds: string[], orders: OrderRow[]): Promise<Finding> {
  const violations: string[] = []
  for (const customerId of customerIds) {
    const mine = orders.filter((o) => o.customer_id === customerId)
    const want = [mine.length, mine.filter((o) => o.status === COMPLETED).length, mine.filter((o) => o.status === CANCELLED).length]
    const { stats } = await clients.customer.getCustomerStats({ customerId }, { deadline: Date.now() + 5000 })
    const got = [Number(stats?.ordersPlaced ?? 0), Number(stats?.ordersCompleted ?? 0), Number(stats?.ordersCancelled ?? 0)]
    if (got.join() !== want.join())
      violations.push(`customer ${customerId}: statistics say placed/completed/cancelled ${got.join('/')}, the orders ${want.join('/')}`)
  }
  return { check: 'statistics count each order once (customer stats vs orders per customer)', violations }
}

async function usualsOnce(env: Record<string, string>, customerIds: string[], completed: OrderRow[]): Promise<Finding> {
  const rows = await sqlQuery<{ order_id: string; n: number }>(
    env,
    'select order_id, count(*)::int as n from drink_completions where customer_id = any($1::uuid[]) group by order_id',
    [customerIds],
  )
  const counted = new Map(rows.map((r) => [r.order_id, r.n]))
  // The load's orders have one line each: one drink completion per completed order.
  const violations = completed
    .filter((o) => counted.get(o.id) !== 1)
    .map((o) => `completed order ${o.id} counts ${counted.get(o.id) ?? 0} drinks`)
  const done = new Set(completed.map((o) => o.id))
  for (const r of rows.filter((x) => !done.has(x.order_id))) violations.push(`order ${r.order_id} counts a drink but is not completed`)
  return { check: 'learned usuals count each completed order once (favorites drink completions per order)', violations }
}

async function outboxesDrained(envs: Record<Service, Record<string, string>>): Promise<Finding> {
  const violations: string[] = []
  for (const service of SERVICES) {
    const [row] = await sqlQuery<{ n: number }>(envs[service], 'select count(*)::int as n from outbox where published_at is null')
    if (row!.n > 0) violations.push(`${service}: ${row!.n} outbox rows not published`)
  }
  return { check: "every service's outbox drained", violations }
}

/** The durable groups (shared by replicas, committing what they applied) and the topics they read. */
export const durableGroups = (suffix: string): Record<string, string[]> => ({
  [LOYALTY_GROUP + suffix]: [ORDER_EVENTS_TOPIC + suffix, CUSTOMER_EVENTS_TOPIC + suffix],
  [FAVORITES_GROUP + suffix]: [ORDER_EVENTS_TOPIC + suffix, CUSTOMER_EVENTS_TOPIC + suffix],
  [STATS_CONSUMER + suffix]: [ORDER_EVENTS_TOPIC + suffix],
})

async function kafkaCaughtUp(brokers: string, suffix: string): Promise<Finding[]> {
  return withAdmin(brokers, async (admin) => {
    const lagging: string[] = []
    for (const [group, topics] of Object.entries(durableGroups(suffix))) {
      for (const [topic, lag] of Object.entries(await groupLag(admin, group, topics)))
        if (lag > 0) lagging.push(`${group} is ${lag} behind on ${topic}`)
    }
    const dead: string[] = []
    for (const topic of (await admin.listTopics()).filter((t) => t.endsWith('.dlq'))) {
      const n = await messagesIn(admin, topic)
      if (n > 0) dead.push(`${topic} holds ${n} messages`)
    }
    return [
      { check: 'consumer lag back to zero for the durable groups', violations: lagging },
      { check: 'nothing in any .dlq topic', violations: dead },
    ]
  })
}

async function serving(mesh: Mesh): Promise<Finding> {
  return {
    check: 'every replica SERVING, none exited on its own',
    violations: [...(await mesh.notServing()).map((name) => `${name} is not SERVING`), ...mesh.crashes],
  }
}
