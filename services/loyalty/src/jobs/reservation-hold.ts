import type { Queue } from 'bullmq'
import type { LoyaltyDeps } from '../domain/ports.ts'
import { releaseStranded } from '../domain/reservation-hold.ts'

export const RESERVATION_HOLD_QUEUE = 'loyalty-reservation-hold'
const SCHEDULER_ID = 'reservation-hold'

/** The processor: releases reservations stranded longer than the hold period before the clock's now. */
export const processReservationHold = (deps: LoyaltyDeps) => () => releaseStranded(deps, deps.clock())

export async function scheduleReservationHold(queue: Queue, cron: string): Promise<void> {
  await queue.upsertJobScheduler(SCHEDULER_ID, { pattern: cron, tz: 'UTC' }, { name: 'release' })
}
