import type { Order } from '../../src/domain/order.ts'
import type { OrderChange, OrderDeps, OrderStore, OrderTx } from '../../src/domain/ports.ts'
import { T0 } from './fixtures.ts'

/**
 * An in-memory OrderStore with real transactions: a transaction works on copies and commits them
 * only when its work succeeds, so a test sees exactly what a rolled-back transaction leaves.
 */
export class MemoryStore {
  orders = new Map<string, Order>()
  events: OrderChange[] = []
  answers = new Map<string, Uint8Array>()
  hashes = new Map<string, string>()

  constructor(orders: Order[] = []) {
    for (const o of orders) this.orders.set(o.id, o)
  }

  store(): OrderStore {
    const notUsed = () => Promise.reject(new Error('not used by these tests'))
    return {
      transaction: async (work) => {
        const orders = new Map(this.orders)
        const events = [...this.events]
        const answers = new Map(this.answers)
        const tx: OrderTx = {
          order: async (id) => orders.get(id),
          update: async (o) => void orders.set(o.id, o),
          updateAll: async (all) => all.forEach((o) => orders.set(o.id, o)),
          record: async (c) => void events.push(c),
          claimable: async (id) => {
            const o = orders.get(id)
            return o && (o.status === 'paid' || o.status === 'preparing') && !o.baristaId ? o : undefined
          },
          duePayments: notUsed,
          saveCommandAnswer: async (barista, command, answer) => {
            const key = `${barista}/${command}`
            if (answers.has(key)) return false
            answers.set(key, answer)
            return true
          },
        }
        const result = await work(tx)
        Object.assign(this, { orders, events, answers })
        return result
      },
      place: async (order, requestHash, placed) => {
        const stored = this.orders.get(order.id)
        if (stored) return { order: stored, requestHash: this.hashes.get(order.id) ?? '' }
        this.orders.set(order.id, order)
        this.hashes.set(order.id, requestHash)
        this.events.push(placed)
        return undefined
      },
      order: async (id) => this.orders.get(id),
      byRequestId: notUsed,
      orders: notUsed,
      queue: async (limit) => [...this.orders.values()].filter((o) => o.status === 'paid' && !o.baristaId).slice(0, limit),
      claimedBy: notUsed,
      menuItem: notUsed,
      menu: notUsed,
      commandAnswer: async (barista, command) => this.answers.get(`${barista}/${command}`),
      saveCommandAnswer: notUsed,
      purgeCommandAnswers: notUsed,
    }
  }

  deps(): OrderDeps {
    const none = () => Promise.reject(new Error('not used by these tests'))
    return {
      store: this.store(),
      customers: { known: none, current: none },
      favorites: { usual: none },
      loyalty: { redeem: none, release: none },
      clock: () => T0,
      newId: () => '00000000-0000-4000-8000-000000000000',
      taxRateBps: 825,
      currency: 'USD',
      payment: { successRate: 1, delayMs: 0 },
    }
  }
}
