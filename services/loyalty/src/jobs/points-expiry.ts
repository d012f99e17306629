import { expireInactive, type ExpiryRun } from '../domain/expiry.ts'
import type { LoyaltyDeps } from '../domain/ports.ts'

export const POINTS_EXPIRY_QUEUE = 'loyalty-points-expiry'
/** The daily run's scheduler (one per queue, whatever the replica count). */
export const POINTS_EXPIRY_SCHEDULE = 'points-expiry-daily'

/** The processor: expires balances inactive for the configured period before the clock's now. */
export const processPointsExpiry = (deps: LoyaltyDeps) => (): Promise<ExpiryRun> => expireInactive(deps, deps.clock())
