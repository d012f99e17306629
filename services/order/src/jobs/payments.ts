import { sleep } from '@brewmesh/runtime/service'
import type { Logger } from '@brewmesh/runtime/logger'
import { processDuePayments } from '../domain/orders.ts'
import type { OrderDeps } from '../domain/ports.ts'

export interface PaymentRounds {
  /** How often a replica looks for due payments when the last round found fewer than `batch`. */
  pollMs: number
  /** Most payments answered per round (one transaction). */
  batch: number
}

/**
 * The mock processor: every replica runs rounds over the orders whose payment is due, straight from
 * PostgreSQL (processDuePayments). It used to be a BullMQ job per order, delayed by the processor's
 * delay, with a sweep for orders placed while Valkey was away: about 50 Valkey commands and a worker
 * round trip per order, and payments stalled with Valkey. Now a round is one transaction for up to
 * `batch` orders, Valkey plays no part, and a payment is answered `delayMs` to `delayMs + pollMs`
 * after its placement. Resolves once `stopping` aborts and the round in progress has finished.
 */
export async function runPayments(deps: OrderDeps, rounds: PaymentRounds, stopping: AbortSignal, log: Logger): Promise<void> {
  let backoffMs = rounds.pollMs
  while (!stopping.aborted) {
    try {
      const { taken, answered } = await processDuePayments(deps, rounds.batch)
      for (const order of answered)
        log.debug({ orderId: order.id, status: order.status, payment: order.payment.status }, 'payment processed')
      backoffMs = rounds.pollMs
      if (taken === rounds.batch) continue // more may be due
    } catch (err) {
      // PostgreSQL away: the orders stay pending and are answered once it is back.
      log.warn({ err: (err as Error).message, retryInMs: backoffMs }, 'payment round failed')
      backoffMs = Math.min(backoffMs * 2, 5000)
    }
    await sleep(backoffMs, stopping)
  }
}
