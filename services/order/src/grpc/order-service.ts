import type { Actor } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import type { Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import type { OrderServiceServer, PlaceGroupOrderRequest } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { authorize } from '@brewmesh/runtime/auth/access.ts'
import type { Principal } from '@brewmesh/runtime/auth/principal.ts'
import { invalid, notFound, Violations } from '@brewmesh/runtime/errors.ts'
import { callerOf, type CallAdapters, type CallContext } from '@brewmesh/runtime/grpc/calls.ts'
import type { RateLimiter } from '@brewmesh/runtime/rate-limit.ts'
import { advanceOrder, cancelOrder, getOrder, listOrders, requireUuid } from '../domain/orders.ts'
import { placeOrder, type LineInput, type PlaceInput } from '../domain/place-order.ts'
import type { CallBudget, OrderDeps } from '../domain/ports.ts'
import type { OrderBus } from '../events/order-bus.ts'
import { ACCESS, type OrderRpc } from './access.ts'
import { baristaSession } from './barista-session.ts'
import { lineFromProto } from './order-mapper.ts'
import { watchOrder } from './watch-order.ts'

const ACTOR_KIND = { customer: 1, staff: 2, service: 3 } as const
const actorOf = (p: Principal): Actor => ({ kind: ACTOR_KIND[p.kind], id: p.subject, displayName: '' })

/** The caller's deadline, so the calls this one makes to other services stop when nobody waits. */
const budgetOf = (ctx: CallContext): CallBudget => ({ deadline: ctx.deadline })

async function readGroupOrder(
  requests: AsyncIterable<PlaceGroupOrderRequest>,
  onHeader: (customerId: string) => Promise<void>,
): Promise<PlaceInput> {
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
      await onHeader(m.value.customerId)
    } else if (m?.$case === 'line') {
      if (!input) throw invalid([{ field: 'header', description: 'must come first' }])
      if (lines.length === 50) throw invalid([{ field: 'lines', description: 'at most 50 lines' }])
      lines.push(lineFromProto(m.value))
    } else {
      throw invalid([{ field: 'message', description: 'send a header or a line' }])
    }
  }
  if (!input) throw invalid([{ field: 'header', description: 'is required' }])
  return input
}

/** OrderService handlers: authorize, decode, call the use case, encode. Errors map in runtime/grpc/status.ts. */
export function orderService(deps: OrderDeps, bus: OrderBus, calls: CallAdapters, limitWrites: RateLimiter): OrderServiceServer {
  const { unary } = calls
  const allow = (ctx: CallContext, rpc: OrderRpc, target: { customerId?: string; householdId?: string } = {}) =>
    authorize(
      callerOf(ctx),
      ACCESS[rpc],
      { customerId: target.customerId?.toLowerCase(), householdId: target.householdId?.toLowerCase() || undefined },
      rpc,
    )
  const allowWrite = async (ctx: CallContext, rpc: OrderRpc, target?: { customerId?: string }) => {
    allow(ctx, rpc, target)
    await limitWrites(callerOf(ctx))
  }
  /** An order the caller may see: staff any, a customer their own or their household's. */
  const visibleOrder = async (ctx: CallContext, rpc: OrderRpc, id: string): Promise<Order> => {
    const order = await getOrder(deps, id)
    allow(ctx, rpc, { customerId: order.customerId, householdId: order.householdId })
    return order
  }

  return {
    placeOrder: unary('PlaceOrder', async (r, ctx) => {
      await allowWrite(ctx, 'PlaceOrder', { customerId: r.customerId })
      const input: PlaceInput = {
        kind: 'single',
        requestId: r.requestId,
        customerId: r.customerId,
        lines: r.lines.map(lineFromProto),
        rewardIds: r.rewardIds,
        note: r.note,
      }
      return { order: await placeOrder(deps, input, budgetOf(ctx)) }
    }),
    placeGroupOrder: calls.clientStream('PlaceGroupOrder', async (requests, ctx) => {
      const input = await readGroupOrder(requests, (customerId) => allowWrite(ctx, 'PlaceGroupOrder', { customerId }))
      return { order: await placeOrder(deps, input, budgetOf(ctx)) }
    }),
    getOrder: unary('GetOrder', async (r, ctx) => ({ order: await visibleOrder(ctx, 'GetOrder', r.id) })),
    listOrders: unary('ListOrders', async (r, ctx) => {
      const caller = callerOf(ctx)
      // A customer lists their own orders or their household's: one of the two filters is required and must be theirs.
      if (caller.kind === 'customer' && !r.customerId && !r.householdId) {
        throw invalid([{ field: 'customer_id', description: 'set customer_id or household_id' }])
      }
      if (r.customerId || caller.kind !== 'customer')
        allow(ctx, 'ListOrders', { customerId: r.customerId || undefined, householdId: undefined })
      if (r.householdId && caller.kind === 'customer') allow(ctx, 'ListOrders', { householdId: r.householdId })
      return listOrders(deps, { ...r, placedAfter: r.placedAfter, placedBefore: r.placedBefore })
    }),
    cancelOrder: unary('CancelOrder', async (r, ctx) => {
      const order = await getOrder(deps, r.id)
      await allowWrite(ctx, 'CancelOrder', { customerId: order.customerId })
      return { order: await cancelOrder(deps, actorOf(callerOf(ctx)), r.id, r.reason) }
    }),
    advanceOrder: unary('AdvanceOrder', async (r, ctx) => {
      await allowWrite(ctx, 'AdvanceOrder')
      return { order: await advanceOrder(deps, actorOf(callerOf(ctx)), r.id, r.expectedStatus) }
    }),
    listMenuItems: unary('ListMenuItems', async (r) => {
      const v = new Violations()
      v.check(r.pageSize >= 0 && r.pageSize <= 100, 'page_size', 'must be 0 to 100')
      v.throwIfAny()
      const all = (await deps.store.menu()).filter((i) => (!r.category || i.category === r.category) && (!r.availableOnly || i.available))
      const start = r.pageToken ? Number(Buffer.from(r.pageToken, 'base64url').toString('utf8')) : 0
      if (!Number.isInteger(start) || start < 0) throw invalid([{ field: 'page_token', description: 'is not a page token' }])
      const size = r.pageSize || 50
      const items = all.slice(start, start + size)
      return { items, nextPageToken: start + size < all.length ? Buffer.from(String(start + size)).toString('base64url') : '' }
    }),
    getMenuItem: unary('GetMenuItem', async (r) => {
      requireUuid(r.id, 'id')
      const item = await deps.store.menuItem(r.id.toLowerCase())
      if (!item) throw notFound('menu item', r.id)
      return { item }
    }),
    watchOrder: calls.serverStream('WatchOrder', async (r, send, ctx) => {
      await visibleOrder(ctx, 'WatchOrder', r.id)
      await watchOrder(bus, () => getOrder(deps, r.id), send, ctx)
    }),
    baristaSession: calls.bidi('BaristaSession', async (requests, send, ctx) => {
      allow(ctx, 'BaristaSession')
      await baristaSession(deps, bus, actorOf(callerOf(ctx)))(requests, send, ctx)
    }),
  }
}
