import type { OrderServiceService, PlaceGroupOrderRequest } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { invalid } from '@brewmesh/runtime/errors'
import type { Call, Routes } from '@brewmesh/runtime/grpc'
import type { FanOut } from '@brewmesh/runtime/streams'
import { getMenuItem, listMenu } from '../domain/menu.ts'
import type { Actor, Order } from '../domain/order.ts'
import { advanceOrder, cancelOrder, getOrder, listOrders } from '../domain/orders.ts'
import { MAX_LINES, placeOrder, type LineInput, type PlaceInput } from '../domain/place-order.ts'
import type { CallBudget, OrderChange, OrderDeps } from '../domain/ports.ts'
import { lineInputFromProto, menuItemToProto, orderStatus, orderToProto } from '../proto/order-mapper.ts'
import { ACCESS } from './access.ts'
import { baristaSession } from './barista-session.ts'
import { watchOrder } from './watch-order.ts'

/** Who is acting, from the verified caller. */
const actorOf = (call: Call): Actor => ({ kind: call.caller.kind, id: call.caller.subject, displayName: '' })

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
      lines.push(lineInputFromProto(m.value))
    } else {
      throw invalid([{ field: 'message', description: 'send a header or a line' }])
    }
  }
  if (!input) throw invalid([{ field: 'header', description: 'is required' }])
  return input
}

/** An order the caller may see: staff any, a customer their own (or their household's, as the rule says). */
async function visibleOrder(deps: OrderDeps, call: Call, id: string): Promise<Order> {
  const order = await getOrder(deps, id)
  call.authorize({ customerId: order.customerId, householdId: order.householdId })
  return order
}

const answer = (order: Order) => ({ order: orderToProto(order) })

/** OrderService: one route per RPC (access rule, writes, handler). Errors map in runtime/grpc/status.ts. */
export function orderRoutes(deps: OrderDeps, changes: FanOut<OrderChange>): Routes<typeof OrderServiceService> {
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
          lines: r.lines.map(lineInputFromProto),
          rewardIds: r.rewardIds,
          note: r.note,
        }
        return answer(await placeOrder(deps, input, budgetOf(call)))
      },
    },
    placeGroupOrder: {
      access: ACCESS.PlaceGroupOrder,
      // The payer is in the header, the first message.
      about: 'handler',
      write: true,
      handle: async (requests, call) => answer(await placeOrder(deps, await readGroupOrder(requests, call), budgetOf(call))),
    },
    getOrder: {
      access: ACCESS.GetOrder,
      // Whose order it is comes from the stored order.
      about: 'handler',
      handle: async (r, call) => answer(await visibleOrder(deps, call, r.id)),
    },
    listOrders: {
      access: ACCESS.ListOrders,
      // A customer lists their own orders (customer_id) or their household's (household_id).
      about: (r) => ({ customerId: r.customerId || undefined, householdId: r.householdId || undefined }),
      async handle(r) {
        const page = await listOrders(deps, {
          ...r,
          placedAfter: r.placedAfter,
          placedBefore: r.placedBefore,
          statuses: r.statuses.map(orderStatus.from),
        })
        return { orders: page.orders.map(orderToProto), nextPageToken: page.nextPageToken }
      },
    },
    cancelOrder: {
      access: ACCESS.CancelOrder,
      about: 'handler',
      write: true,
      async handle(r, call) {
        await visibleOrder(deps, call, r.id)
        return answer(await cancelOrder(deps, actorOf(call), r.id, r.reason))
      },
    },
    advanceOrder: {
      access: ACCESS.AdvanceOrder,
      about: 'nobody',
      write: true,
      handle: async (r, call) => answer((await advanceOrder(deps, actorOf(call), r.id, orderStatus.from(r.expectedStatus))).order),
    },
    listMenuItems: {
      access: ACCESS.ListMenuItems,
      // The menu is about nobody in particular: a customer reads it about themselves.
      about: 'handler',
      async handle(r, call) {
        call.authorize({ customerId: call.caller.subject })
        const page = await listMenu(deps, r)
        return { items: page.items.map(menuItemToProto), nextPageToken: page.nextPageToken }
      },
    },
    getMenuItem: {
      access: ACCESS.GetMenuItem,
      about: 'handler',
      async handle(r, call) {
        call.authorize({ customerId: call.caller.subject })
        return { item: menuItemToProto(await getMenuItem(deps, r.id)) }
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
      // A command breaking the contract is answered rejected INVALID_COMMAND; the session goes on.
      invalidMessages: 'deliver',
      handle: (requests, call) => baristaSession(deps, changes, requests, actorOf(call), call.signal),
    },
  }
}
