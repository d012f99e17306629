import type { Job, Queue } from 'bullmq'
import { traced } from '@brewmesh/runtime/jobs'
import type { Logger } from '@brewmesh/runtime/logger'
import { withTimeout } from '@brewmesh/runtime/service'
import { processPayment } from '../domain/orders.ts'
import type { OrderDeps, Payments } from '../domain/ports.ts'

export const PAYMENTS_QUEUE = 'order-payments'

export type PaymentJob = { orderId: string; traceparent?: string } | Record<string, never>

/**
 * The mock processor's queue: one delayed job per order (job id = order id, so scheduling twice
 * is one job), retried with backoff when PostgreSQL is away. While Valkey is away (`up` false),
 * or slow, scheduling fails at once instead of waiting on BullMQ's offline queue: the order is
 * already stored, and the pending-payment sweep schedules it once Valkey is back.
 */
export function paymentQueue(queue: Queue<PaymentJob>, delayMs: number, up: () => boolean): Payments {
  return {
    async schedule(orderId) {
      if (!up()) throw new Error('valkey is not connected')
      await withTimeout(queue.add('process', traced({ orderId }), { jobId: orderId, delay: delayMs }), 500, 'valkey')
    },
  }
}

/**
 * The processor. `process` answers one payment; `sweep` (the scheduler) queues payments still
 * pending well after their delay (placement succeeded while Valkey was away).
 */
export function paymentProcessor(deps: OrderDeps, payments: Payments, log: Logger) {
  return async (job: Job<unknown>) => {
    switch (job.name) {
      case 'process': {
        const orderId = (job.data as { orderId: string }).orderId
        const order = await processPayment(deps, orderId)
        if (order) log.info({ orderId, status: order.status, payment: order.payment?.status }, 'payment processed')
        return order?.payment?.status ?? 'already answered'
      }
      case 'sweep': {
        const stale = await deps.store.pendingPayments(new Date(deps.clock().getTime() - deps.payment.delayMs - 30_000))
        for (const orderId of stale) await payments.schedule(orderId)
        return { rescheduled: stale.length }
      }
      default:
        throw new Error(`unknown job ${job.name}`)
    }
  }
}
