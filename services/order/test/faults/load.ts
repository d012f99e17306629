import { randomUUID } from 'node:crypto'
import { status as Code, type ServiceError } from '@grpc/grpc-js'
import type { OrderLineInput, PlaceOrderRequest } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { withRetries, type CallLog } from './calls.ts'
import type { OrderClient } from './clients.ts'
import { DOLLAR_OFF, type World } from './world.ts'

/** What an order needs beyond the Order Service: a reward (Loyalty), "my usual" (Favorites), or neither. */
export type Variant = 'menu' | 'usual' | 'reward'

/** One order the load asked for, and what became of it. */
export interface Placement {
  requestId: string
  customerId: string
  variant: Variant
  askedAt: number
  /** acked: an answer with the order; refused: a failure that is not transient; gave-up: still failing when the caller gave up. */
  outcome: 'pending' | 'acked' | 'refused' | 'gave-up'
  orderId?: string
  error?: string
}

export interface LoadOptions {
  ratePerSecond: number
  /** How long a caller keeps retrying one order before it gives up (as a person at a till would). */
  giveUpMs: number
  /** Share of acknowledged orders the customer cancels at once (before or around the payment). */
  cancelShare: number
}

const statusOf = (err: unknown) => `${Code[(err as ServiceError).code]} ${(err as ServiceError).details ?? String(err)}`

/**
 * Orders placed at a steady rate (an open loop: a slow or failing mesh does not slow the arrivals),
 * each retried with its request_id until it is acknowledged, refused, or its caller gives up.
 */
export class OrderLoad {
  readonly placements: Placement[] = []
  private readonly inFlight = new Set<Promise<void>>()
  private ticker: NodeJS.Timeout | undefined
  private startedAt = 0
  private retryUntil = Infinity

  private readonly clients: OrderClient[]
  private readonly world: World
  private readonly log: CallLog
  private readonly options: LoadOptions

  constructor(clients: OrderClient[], world: World, log: CallLog, options: LoadOptions) {
    this.clients = clients
    this.world = world
    this.log = log
    this.options = options
  }

  start(): void {
    this.startedAt = Date.now()
    this.ticker = setInterval(() => {
      const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.options.ratePerSecond)
      while (this.placements.length < due) this.launch()
    }, 20)
  }

  /** No new orders; those still retrying get `drainMs` more, then give up. */
  async stop(drainMs: number): Promise<void> {
    clearInterval(this.ticker)
    this.retryUntil = Date.now() + drainMs
    await Promise.all(this.inFlight)
  }

  private launch(): void {
    const n = this.placements.length
    const member = this.world.members[Math.floor(Math.random() * this.world.members.length)]!
    const roll = Math.random()
    const variant: Variant = roll < 0.15 ? 'reward' : roll < 0.4 && member.hasUsual ? 'usual' : 'menu'
    const placement: Placement = { requestId: randomUUID(), customerId: member.id, variant, askedAt: Date.now(), outcome: 'pending' }
    this.placements.push(placement)
    const client = this.clients[n % this.clients.length]!
    const work = this.place(client, placement).finally(() => this.inFlight.delete(work))
    this.inFlight.add(work)
  }

  private request(p: Placement): PlaceOrderRequest {
    const drink = this.world.drinks[Math.floor(Math.random() * this.world.drinks.length)]!
    const line: OrderLineInput =
      p.variant === 'usual'
        ? { quantity: 1, memberCustomerId: '', item: { $case: 'usual', value: {} } }
        : {
            quantity: Math.random() < 0.3 ? 2 : 1,
            memberCustomerId: '',
            item: { $case: 'drink', value: { menuItemId: drink.id, customization: undefined } },
          }
    return {
      requestId: p.requestId,
      customerId: p.customerId,
      lines: [line],
      rewardIds: p.variant === 'reward' ? [DOLLAR_OFF] : [],
      note: '',
    }
  }

  private async place(client: OrderClient, p: Placement): Promise<void> {
    const request = this.request(p)
    const keepTrying = () => Date.now() < Math.min(this.retryUntil, p.askedAt + this.options.giveUpMs)
    const placed = await withRetries(this.log, 'place', p.variant, (deadline) => client.placeOrder(request, { deadline }), keepTrying)
    if (!placed.ok) {
      p.outcome = placed.gaveUp ? 'gave-up' : 'refused'
      p.error = statusOf(placed.err)
      return
    }
    p.outcome = 'acked'
    p.orderId = placed.value.order!.id
    if (Math.random() >= this.options.cancelShare) return
    // A change of mind: READY or COMPLETED already is a refusal the customer accepts.
    const cancel = { requestId: randomUUID(), id: p.orderId, reason: 'changed my mind' }
    await withRetries(this.log, 'cancel', 'customer', (deadline) => client.cancelOrder(cancel, { deadline }), keepTrying)
  }
}
