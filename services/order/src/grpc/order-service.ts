import type { Actor } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import type { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import type { OrderServiceService, PlaceGroupOrderRequest } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { invalid, notFound, Violations } from '@brewmesh/runtime/errors'
import type { Call, Principal, Routes } from '@brewmesh/runtime/grpc'
import type { FanOut } from '@brewmesh/runtime/streams'
import { advanceOrder, cancelOrder, getOrder, listOrders, requireUuid } from '../domain/orders.ts'
import { MAX_LINES, placeOrder, type LineInput, type PlaceInput } from '../domain/place-order.ts'
import type { CallBudget, OrderDeps } from '../domain/ports.ts'
import { ACCESS } from './access.ts'
import { baristaSession } from './barista-session.ts'
import { lineFromProto } from './order-mapper.ts'
import { watchOrder } from './watch-order.ts'

const ACTOR_KIND = { customer: 1, staff: 2, service: 3 } as const
const actorOf = (p: Principal): Actor => ({ kind: ACTOR_KIND[p.kind], id: p.subject, displayName: '' })

/** The caller's deadline, so the calls this one makes to other services stop when nobody waits. */
const budgetOf = (call: Call): CallBudget => ({ deadline: call.deadline })

/** The header exactly once, first, then 1 to 50 lines; authorized as soon as the header names the payer. */
async function readGroupOrder(requests: AsyncIterable<PlaceGroupOrderRequest>, call: Call): Promise<PlaceInput> {
  let input: PlaceInput | undefined
  const lines: LineInput[] = []
  for await (const r of requests) {
    const m = r.message
    if (m?.$case === 'header') {
      if (input) throw invalid([{ field: 'header', description: 'must come exactly once, first' }])
      input = {
        kind: 'group',
        requestId: m.value.requestId,
        customerId: m.value.customerId,
        rewardIds: m.value.rewardIds,
        note: m.value.note,
        lines,
      }
      call.authorize({ customerId: m.value.customerId })
    } else if (m?.$case === 'line') {
      if (!input) throw invalid([{ field: 'header', description: 'must come first' }])
      if (lines.length === MAX_LINES.group) throw invalid([{ field: 'lines', description: `at most ${MAX_LINES.group} lines` }])
      lines.push(lineFromProto(m.value))
    } else {
      throw invalid([{ field: 'message', description: 'send a header or a line' }])
    }
  }
  if (!input) throw invalid([{ field: 'header', description: 'is required' }])
  return input
}

/** An order the caller may see: staff any, a customer their own (or their household's, as the rule says). */
async function visibleOrder(deps: OrderDeps, call: Call, id: string) {
  const order = await getOrder(deps, id)
  call.authorize({ customerId: order.customerId, householdId: order.householdId })
  return order
}

/** OrderService: one route per RPC (access rule, writes, handler). Errors map in runtime/grpc/status.ts. */
export function orderRoutes(deps: OrderDeps, changes: FanOut<OrderEvent>): Routes<typeof OrderServiceService> {
  return {
    placeOrder: {
      access: ACCESS.PlaceOrder,
      about: (r) => ({ customerId: r.customerId }),
      write: true,
      async handle(r, call) {
        const input: PlaceInput = {
          kind: 'single',
          requestId: r.requestId,
          customerId: r.customerId,
          lines: r.lines.map(lineFromProto),
          rewardIds: r.rewardIds,
          note: r.note,
        }
        return { order: await placeOrder(deps, input, budgetOf(call)) }
      },
    },
    placeGroupOrder: {
      access: ACCESS.PlaceGroupOrder,
      // The payer is in the header, the first message.
      about: 'handler',
      write: true,
      handle: async (requests, call) => ({ order: await placeOrder(deps, await readGroupOrder(requests, call), budgetOf(call)) }),
    },
    getOrder: {
      access: ACCESS.GetOrder,
      // Whose order it is comes from the stored order.
      about: 'handler',
      handle: async (r, call) => ({ order: await visibleOrder(deps, call, r.id) }),
    },
    listOrders: {
      access: ACCESS.ListOrders,
      // A customer lists their own orders (customer_id) or their household's (household_id).
      about: (r) => ({ customerId: r.customerId || undefined, householdId: r.householdId || undefined }),
      handle: (r) => listOrders(deps, { ...r, placedAfter: r.placedAfter, placedBefore: r.placedBefore }),
    },
    cancelOrder: {
      access: ACCESS.CancelOrder,
      about: 'handler',
      write: true,
      async handle(r, call) {
        await visibleOrder(deps, call, r.id)
        return { order: await cancelOrder(deps, actorOf(call.caller), r.id, r.reason) }
      },
    },
    advanceOrder: {
      access: ACCESS.AdvanceOrder,
      about: 'nobody',
      write: true,
      handle: async (r, call) => ({ order: await advanceOrder(deps, actorOf(call.caller), r.id, r.expectedStatus) }),
    },
    listMenuItems: {
      access: ACCESS.ListMenuItems,
      // The menu is about nobody in particular: a customer reads it about themselves.
      about: 'handler',
      async handle(r, call) {
        call.authorize({ customerId: call.caller.subject })
        const v = new Violations()
        v.check(r.pageSize >= 0 && r.pageSize <= 100, 'page_size', 'must be 0 to 100')
        v.throwIfAny()
        const all = (await deps.store.menu()).filter((i) => (!r.category || i.category === r.category) && (!r.availableOnly || i.available))
        const start = r.pageToken ? Number(Buffer.from(r.pageToken, 'base64url').toString('utf8')) : 0
        if (!Number.isInteger(start) || start < 0) throw invalid([{ field: 'page_token', description: 'is not a page token' }])
        const size = r.pageSize || 50
        const items = all.slice(start, start + size)
        return { items, nextPageToken: start + size < all.length ? Buffer.from(String(start + size)).toString('base64url') : '' }
      },
    },
    getMenuItem: {
      access: ACCESS.GetMenuItem,
      about: 'handler',
      async handle(r, call) {
        call.authorize({ customerId: call.caller.subject })
        requireUuid(r.id, 'id')
        const item = await deps.store.menuItem(r.id.toLowerCase())
        if (!item) throw notFound('menu item', r.id)
        return { item }
      },
    },
    watchOrder: {
      access: ACCESS.WatchOrder,
      about: 'handler',
      handle: (r, call) => watchOrder(deps, changes, r.id, call),
    },
    baristaSession: {
      access: ACCESS.BaristaSession,
      about: 'nobody',
      handle: (requests, call) => baristaSession(deps, changes, requests, actorOf(call.caller), call.signal),
    },
  }
}
