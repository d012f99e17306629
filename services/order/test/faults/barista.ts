import { OrderStatus, type Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { CALL_TIMEOUT_MS, withRetries, type CallLog } from './calls.ts'
import type { OrderClient } from './clients.ts'

const { ORDER_STATUS_PAID: PAID, ORDER_STATUS_PREPARING: PREPARING, ORDER_STATUS_READY: READY } = OrderStatus
const IN_PROGRESS: OrderStatus[] = [PAID, PREPARING, READY]
const NAMES: Record<number, string> = { [PAID]: 'PAID', [PREPARING]: 'PREPARING', [READY]: 'READY' }
/** Orders worked on at once. */
const HANDS = 32

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The staff side of the load: polls the paid and in-progress orders and advances each to
 * COMPLETED with AdvanceOrder(expected_status), so a retried step never advances twice; cancels
 * a share of paid orders instead (chosen by order id, so a retry chooses the same).
 */
export class Barista {
  private running = false
  private loop: Promise<void> | undefined
  private readonly working = new Map<string, Promise<void>>()
  private turn = 0

  private readonly clients: OrderClient[]
  private readonly log: CallLog
  private readonly cancelShare: number

  constructor(clients: OrderClient[], log: CallLog, cancelShare: number) {
    this.clients = clients
    this.log = log
    this.cancelShare = cancelShare
  }

  start(): void {
    this.running = true
    this.loop = (async () => {
      while (this.running) {
        await this.poll()
        await sleep(250)
      }
    })()
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
    await Promise.all(this.working.values())
  }

  private client(): OrderClient {
    return this.clients[this.turn++ % this.clients.length]!
  }

  private async poll(): Promise<void> {
    let pageToken = ''
    do {
      const startedAt = Date.now()
      const request = { pageSize: 100, pageToken, customerId: '', householdId: '', statuses: IN_PROGRESS }
      try {
        const page = await this.client().listOrders(request, { deadline: startedAt + CALL_TIMEOUT_MS })
        this.log.record('list', 'barista', startedAt)
        for (const order of page.orders) this.take(order)
        pageToken = page.nextPageToken
      } catch (err) {
        this.log.record('list', 'barista', startedAt, err)
        return
      }
    } while (pageToken && this.working.size < HANDS)
  }

  private take(order: Order): void {
    if (this.working.has(order.id) || this.working.size >= HANDS) return
    const work = this.make(order).finally(() => this.working.delete(order.id))
    this.working.set(order.id, work)
  }

  private async make(order: Order): Promise<void> {
    const client = this.client()
    const keepTrying = () => this.running
    if (order.status === PAID && parseInt(order.id.slice(0, 4), 16) / 0x10000 < this.cancelShare) {
      const cancel = { requestId: `barista-${order.id}`, id: order.id, reason: 'out of oat milk' }
      await withRetries(this.log, 'cancel', 'barista', (deadline) => client.cancelOrder(cancel, { deadline }), keepTrying)
      return
    }
    let status = order.status
    while (this.running && IN_PROGRESS.includes(status)) {
      const from = status
      const advanced = await withRetries(
        this.log,
        'advance',
        NAMES[from]!,
        (deadline) => client.advanceOrder({ id: order.id, expectedStatus: from }, { deadline }),
        keepTrying,
      )
      // Refused (the customer cancelled it meanwhile, or it moved on): the next poll sees it as it is.
      if (!advanced.ok) return
      status = advanced.value.order!.status
    }
  }
}
