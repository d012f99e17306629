import type { LoyaltyDeps } from '../domain/ports.ts'
import { releaseStranded } from '../domain/reservation-hold.ts'

export const RESERVATION_HOLD_QUEUE = 'loyalty-reservation-hold'
/** The repeating run's scheduler (one per queue, whatever the replica count). */
export const RESERVATION_HOLD_SCHEDULE = 'reservation-hold'

/** The processor: releases reservations stranded longer than the hold period before the clock's now. */
export const processReservationHold = (deps: LoyaltyDeps) => () => releaseStranded(deps, deps.clock())
