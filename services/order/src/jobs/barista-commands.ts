import type { OrderStore } from '../domain/ports.ts'

export const BARISTA_COMMANDS_QUEUE = 'order-barista-commands'

/** The contract keeps a barista's answers at least this long: a command resent within it is answered, not applied again. */
const KEPT_MS = 24 * 3600_000

/** The daily purge of answers to barista commands older than a day. Idempotent. */
export async function purgeBaristaCommands(store: OrderStore, now: Date): Promise<{ baristaCommands: number }> {
  return { baristaCommands: await store.purgeCommandAnswers(new Date(now.getTime() - KEPT_MS)) }
}
