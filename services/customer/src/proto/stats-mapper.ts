import type { CustomerStats as CustomerStatsMessage } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { CustomerStats } from '../domain/stats.ts'

const money = (amountMinor: number, currencyCode: string) => ({ amountMinor: String(amountMinor), currencyCode })

export function statsToProto(s: CustomerStats): CustomerStatsMessage {
  return {
    customerId: s.customerId,
    ordersPlaced: String(s.ordersPlaced),
    ordersCompleted: String(s.ordersCompleted),
    ordersCancelled: String(s.ordersCancelled),
    totalSpent: money(s.totalSpentMinor, s.currency),
    averageOrderValue: money(s.averageOrderValueMinor, s.currency),
    topDrinks: s.topDrinks.map((d) => ({ menuItemId: d.menuItemId, name: d.name, count: String(d.count) })),
    peakTimes: s.peakTimes.map((p) => ({ weekday: p.weekday, hour: p.hour, orders: String(p.orders) })),
    firstOrderAt: s.firstOrderAt,
    lastOrderAt: s.lastOrderAt,
    computedAt: s.computedAt,
  }
}
