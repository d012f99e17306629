import { AppError, invalid, type FieldViolation, Violations } from '@brewmesh/runtime/errors'
import { checkUuid } from '@brewmesh/runtime/ids'
import { getAccount } from './accounts.ts'
import { refused as refuse } from './ledger.ts'
import type { Account, Actor, Cart, CartQuote, Redemption } from './model.ts'
import type { LoyaltyDeps } from './ports.ts'
import { quoteCart } from './quote.ts'
import { commitCart, releaseCommit } from './redemptions.ts'
import { cartViolations, checkText, summaryOf } from './validation.ts'

export type CheckoutStep =
  | { open: { customerId: string } }
  | { cart: Cart | undefined }
  | { commit: { requestId: string; orderId: string; cartSequence: number } }
  | { cancel: { reason: string } }
  | undefined

export type StepErrorReason =
  | 'not_opened'
  | 'already_opened'
  | 'sequence_out_of_order'
  | 'invalid_cart'
  | 'no_cart'
  | 'stale_cart'
  | 'reward_not_applicable'
  | 'invalid_commit'
  | 'already_committed'
  | 'account_closed'

export type CheckoutAnswer =
  | { opened: Account }
  | { quote: CartQuote }
  | { committed: { orderId: string; redemptions: Redemption[]; quote: CartQuote; account: Account } }
  | { cancelled: Redemption[] }
  | { error: { reason: StepErrorReason; message: string; violations: FieldViolation[]; quote?: CartQuote } }

const stepError = (reason: StepErrorReason, message: string, violations: FieldViolation[] = [], quote?: CartQuote): CheckoutAnswer => ({
  error: { reason, message: summaryOf(message, violations), violations, ...(quote ? { quote } : {}) },
})

/**
 * One CheckoutSession: open, cart states (each answered with its quote), then commit or cancel.
 * A step that cannot be done is answered with a step error and the session goes on; only a bad
 * open ends it (NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT thrown). `refused` is what the
 * contract's limits refused in the message (an overlong line id, a NUL in a reason): a step error
 * like any other invalid step. `done` turns true after cancel, when the stream should end.
 */
export function openCheckout(deps: LoyaltyDeps, actor: Actor) {
  let customerId: string | undefined
  let lastSequence = 0
  let cart: { sequence: number; cart: Cart } | undefined
  let committed: { requestId: string; answer: CheckoutAnswer } | undefined
  const session = { done: false, step }

  async function step(sequence: number, s: CheckoutStep, refused: readonly FieldViolation[] = []): Promise<CheckoutAnswer> {
    if (!s || !Number.isSafeInteger(sequence) || sequence <= lastSequence) {
      return stepError('sequence_out_of_order', s ? `sequence must be greater than ${lastSequence}` : 'send exactly one step')
    }
    lastSequence = sequence
    if ('open' in s) {
      if (customerId) return stepError('already_opened', 'the session is already open')
      if (refused.length > 0) throw invalid([...refused], summaryOf('invalid open', refused))
      const v = new Violations()
      checkUuid(v, s.open.customerId, 'open.customer_id')
      v.throwIfAny(summaryOf('invalid open', v.list))
      const account = await getAccount(deps, s.open.customerId)
      if (account.status === 'closed')
        throw refuse('QUOTE_ISSUE_ACCOUNT_CLOSED', `the loyalty account of customer ${account.customerId} is closed`)
      customerId = account.customerId
      return { opened: account }
    }
    if (!customerId) return stepError('not_opened', 'open the session first')
    if ('cancel' in s) {
      if (refused.length > 0) return stepError('invalid_commit', 'the cancel is invalid', [...refused])
      session.done = true
      const released = committed ? await releaseCommit(deps, actor, customerId, committed.requestId, s.cancel.reason) : []
      return { cancelled: released }
    }
    if ('cart' in s) {
      if (committed) return stepError('already_committed', 'the cart was committed; retry the same commit to see its answer')
      const v = refused.length > 0 ? [...refused] : cartViolations(s.cart, 'cart.cart').list
      if (v.length > 0) return stepError('invalid_cart', 'the cart is invalid', v)
      const account = await getAccount(deps, customerId)
      if (account.status === 'closed') return stepError('account_closed', 'the account was closed during the session')
      cart = { sequence, cart: s.cart! }
      return { quote: quoteCart(deps.rules, account, await deps.store.rewards(), s.cart!) }
    }
    if (refused.length > 0 && !committed) return stepError('invalid_commit', 'the commit is invalid', [...refused])
    return commit(s.commit)
  }

  async function commit(c: { requestId: string; orderId: string; cartSequence: number }): Promise<CheckoutAnswer> {
    if (committed)
      return committed.requestId === c.requestId ? committed.answer : stepError('already_committed', 'the session already committed')
    const v = new Violations()
    checkText(v, c.requestId, 'commit.request_id', 120)
    checkUuid(v, c.orderId, 'commit.order_id')
    v.check(c.cartSequence > 0, 'commit.cart_sequence', 'is required')
    if (v.list.length > 0) return stepError('invalid_commit', 'the commit is invalid', v.list)
    if (!cart) return stepError('no_cart', 'send a cart state before committing')
    if (c.cartSequence !== cart.sequence)
      return stepError('stale_cart', `cart_sequence must be the last cart state sent (${cart.sequence})`)
    const account = await getAccount(deps, customerId!)
    if (account.status === 'closed') return stepError('account_closed', 'the account was closed during the session')
    let outcome
    try {
      outcome = await commitCart(deps, actor, { customerId: customerId!, requestId: c.requestId, orderId: c.orderId, cart: cart.cart })
    } catch (err) {
      if (err instanceof AppError && err.kind === 'precondition') return stepError('invalid_commit', err.message)
      throw err
    }
    if ('invalidCommit' in outcome)
      return stepError('invalid_commit', 'the commit is invalid', [{ field: 'commit.request_id', description: outcome.invalidCommit }])
    if ('notApplicable' in outcome)
      return stepError('reward_not_applicable', 'a chosen reward no longer applies; nothing was reserved', [], outcome.notApplicable)
    const answer: CheckoutAnswer = { committed: { orderId: c.orderId.toLowerCase(), ...outcome.ok } }
    committed = { requestId: c.requestId, answer }
    return answer
  }

  return session
}
