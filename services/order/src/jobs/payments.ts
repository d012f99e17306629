import type { Job, Queue } from 'bullmq'
import type { Kysely } from 'kysely'
import { purgeOutbox } from '@brewmesh/runtime/db/outbox.ts'
import { traced } from '@brewmesh/runtime/jobs.ts'
import { withTimeout } from '@brewmesh/runtime/lifecycle.ts'
import type { Logger } from '@brewmesh/runtime/logger.ts'
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

/** Schedulers (upserted, so replicas never duplicate them): the pending-payment sweep and the daily outbox purge. */
export async function schedulePaymentJobs(queue: Queue<PaymentJob>, sweepCron: string): Promise<void> {
  await queue.upsertJobScheduler('payment-sweep', { pattern: sweepCron, tz: 'UTC' }, { name: 'sweep' })
  await queue.upsertJobScheduler('outbox-purge-daily', { pattern: '37 3 * * *', tz: 'UTC' }, { name: 'purge' })
}

/**
 * The processor. `process` answers one payment; `sweep` schedules payments still pending well after
 * their delay (placement succeeded while Valkey was away); `purge` trims the outbox.
 */
export function paymentProcessor<DB>(deps: OrderDeps, payments: Payments, db: Kysely<DB>, outboxDays: number, log: Logger) {
  return async (job: Job<PaymentJob>) => {
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
      case 'purge': {
        const now = deps.clock()
        const commands = await deps.store.purgeCommandAnswers(new Date(now.getTime() - 86_400_000))
        return { ...(await purgeOutbox(db, outboxDays, now)), baristaCommands: commands }
      }
      default:
        throw new Error(`unknown job ${job.name}`)
    }
  }
}
