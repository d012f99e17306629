import { status as Code, type ServiceError } from '@grpc/grpc-js'
import { retryDelayOf } from '@brewmesh/sdk/errors.ts'

/** What the load did, call by call: the figures are computed from this log afterwards. */
export type CallKind = 'place' | 'advance' | 'cancel' | 'list'

export interface CallRecord {
  kind: CallKind
  /** A finer label (for placements: menu, usual or reward), so a fault's effect on each can be told apart. */
  variant: string
  startedAt: number
  /** When the answer (or the error) arrived, ms since the epoch. */
  at: number
  /** The call's status, OK when it succeeded. */
  code: Code
  details: string
}

export class CallLog {
  readonly calls: CallRecord[] = []

  record(kind: CallKind, variant: string, startedAt: number, err?: unknown): void {
    const e = err as ServiceError | undefined
    this.calls.push({ kind, variant, startedAt, at: Date.now(), code: e ? (e.code ?? Code.UNKNOWN) : Code.OK, details: e?.details ?? '' })
  }
}

/**
 * A failure a careful caller retries with the same request: the service was away, busy or slow,
 * or the connection broke before any status came back (grpc-js reports a stream reset without a
 * gRPC status as INTERNAL "Received RST_STREAM ..."). A server's own INTERNAL is not retried.
 */
export function transient(err: unknown): boolean {
  const { code, details } = err as ServiceError
  if (code === Code.UNAVAILABLE || code === Code.RESOURCE_EXHAUSTED || code === Code.DEADLINE_EXCEEDED) return true
  return (code === Code.INTERNAL || code === Code.CANCELLED) && /RST_STREAM|Connection dropped/.test(details ?? '')
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export type Attempt<T> = { ok: true; value: T } | { ok: false; err: unknown; gaveUp: boolean }

/** Per-call deadline of the load's calls. */
export const CALL_TIMEOUT_MS = 5000

/**
 * The wait before retry `attempt` (0 for the first retry): an exponential backoff from 200 ms to
 * 5 s, jittered between half and all of it, and never shorter than the server's RetryInfo delay.
 * The floor is how RetryInfo is honoured; the backoff is what keeps a crowd of callers from
 * coming back every 250 ms (what the admission control asks for, whatever the load) and turning
 * an outage into a retry storm that outlasts it.
 */
export function retryDelay(attempt: number, err: unknown): number {
  const backoff = Math.min(5000, 200 * 2 ** attempt)
  return Math.max(retryDelayOf(err) ?? 0, backoff / 2 + Math.random() * (backoff / 2))
}

/**
 * Calls `send` until it answers, retrying transient failures with the same request after
 * retryDelay. Stops at a failure that is not transient, or once `keepTrying` says so.
 */
export async function withRetries<T>(
  log: CallLog,
  kind: CallKind,
  variant: string,
  send: (deadline: Date) => Promise<T>,
  keepTrying: () => boolean,
): Promise<Attempt<T>> {
  for (let attempt = 0; ; attempt++) {
    const startedAt = Date.now()
    try {
      const value = await send(new Date(startedAt + CALL_TIMEOUT_MS))
      log.record(kind, variant, startedAt)
      return { ok: true, value }
    } catch (err) {
      log.record(kind, variant, startedAt, err)
      if (!transient(err)) return { ok: false, err, gaveUp: false }
      if (!keepTrying()) return { ok: false, err, gaveUp: true }
      await sleep(retryDelay(attempt, err))
    }
  }
}
