import { isUuid } from '@brewmesh/runtime/ids'
import type { OrderStatus } from './order.ts'

/**
 * The barista session's protocol, as a state machine over one stream: join first and once, then
 * commands, each with a UUID command id. What a command does to an order is lifecycle.ts (claim,
 * advance, release); its answer is saved in the transaction of its effect (orders.ts `then`), so
 * a command resent after a reconnect is answered, never applied twice.
 */

/** A barista's command as the domain reads it. */
export type BaristaCommand =
  | { kind: 'join'; baristaId: string; displayName: string }
  | { kind: 'claim'; orderId: string }
  /** expected: undefined when the message names no status the contract defines. */
  | { kind: 'advance'; orderId: string; expected: OrderStatus | undefined }
  | { kind: 'release'; orderId: string; reason: string }
  | { kind: 'refresh' }

export interface SessionMessage {
  commandId: string
  /** undefined: the message carries no command. */
  command: BaristaCommand | undefined
  /** Fields of the message that break the contract's limits (their names, never their values). */
  violations: readonly string[]
}

/** Refusals of the session itself; a refused order command carries its reason from reasons.ts. */
export type SessionRejection = 'not_joined' | 'already_joined' | 'invalid_command'

export type SessionStep =
  | { do: 'join'; baristaId: string; displayName: string }
  | { do: 'refresh' }
  | { do: 'run'; command: Extract<BaristaCommand, { kind: 'claim' | 'advance' | 'release' }> }
  | { do: 'reject'; rejection: SessionRejection; message: string }

const reject = (rejection: SessionRejection, message: string): SessionStep => ({ do: 'reject', rejection, message })

/** What the session does with a message, given whether the stream has joined. */
export function sessionStep(joined: boolean, m: SessionMessage): SessionStep {
  if (m.violations.length > 0) return reject('invalid_command', `${m.violations.join(', ')}: outside the contract's limits`)
  if (!isUuid(m.commandId)) return reject('invalid_command', m.commandId ? 'command_id must be a UUID' : 'command_id is required')
  const c = m.command
  if (!c) return reject('invalid_command', 'send one command')
  if (c.kind === 'join')
    return joined ? reject('already_joined', 'already joined') : { do: 'join', baristaId: c.baristaId, displayName: c.displayName }
  if (!joined) return reject('not_joined', 'send join first')
  if (c.kind === 'refresh') return { do: 'refresh' }
  return { do: 'run', command: c }
}

/** The command id an answer carries: the message's own when it is a UUID, otherwise none (never a caller's arbitrary text). */
export const answerId = (commandId: string): string => (isUuid(commandId) ? commandId : '')
