import type { BadRequest_FieldViolation } from '@brewmesh/gen/google/rpc/error_details.ts'
import {
  CheckoutStepError_Reason as Reason,
  type CheckoutSessionRequest,
  type CheckoutSessionResponse,
} from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { messageViolations } from '@brewmesh/runtime/grpc'
import { openCheckout, type CheckoutAnswer, type CheckoutStep, type StepErrorReason } from '../domain/checkout.ts'
import type { Actor } from '../domain/model.ts'
import type { LoyaltyDeps } from '../domain/ports.ts'
import { accountToProto, cartFromProto, quoteToProto, redemptionToProto } from '../proto/loyalty-mapper.ts'

const REASON: Record<StepErrorReason, Reason> = {
  not_opened: Reason.REASON_NOT_OPENED,
  already_opened: Reason.REASON_ALREADY_OPENED,
  sequence_out_of_order: Reason.REASON_SEQUENCE_OUT_OF_ORDER,
  invalid_cart: Reason.REASON_INVALID_CART,
  no_cart: Reason.REASON_NO_CART,
  stale_cart: Reason.REASON_STALE_CART,
  reward_not_applicable: Reason.REASON_REWARD_NOT_APPLICABLE,
  invalid_commit: Reason.REASON_INVALID_COMMIT,
  already_committed: Reason.REASON_ALREADY_COMMITTED,
  account_closed: Reason.REASON_ACCOUNT_CLOSED,
}

function stepOf(request: CheckoutSessionRequest): CheckoutStep {
  const s = request.step
  switch (s?.$case) {
    case 'open':
      return { open: { customerId: s.value.customerId } }
    case 'cart':
      return { cart: cartFromProto(s.value.cart) }
    case 'commit':
      return { commit: { requestId: s.value.requestId, orderId: s.value.orderId, cartSequence: Number(s.value.cartSequence) } }
    case 'cancel':
      return { cancel: { reason: s.value.reason } }
    default:
      return undefined
  }
}

function resultOf(deps: LoyaltyDeps, answer: CheckoutAnswer): CheckoutSessionResponse['result'] {
  if ('opened' in answer) return { $case: 'opened', value: { account: accountToProto(deps.rules, answer.opened) } }
  if ('quote' in answer) return { $case: 'quote', value: quoteToProto(answer.quote) }
  if ('cancelled' in answer) return { $case: 'cancelled', value: { released: answer.cancelled.map(redemptionToProto) } }
  if ('committed' in answer) {
    const c = answer.committed
    return {
      $case: 'committed',
      value: {
        orderId: c.orderId,
        redemptions: c.redemptions.map(redemptionToProto),
        quote: quoteToProto(c.quote),
        account: accountToProto(deps.rules, c.account),
      },
    }
  }
  const e = answer.error
  const fieldViolations: BadRequest_FieldViolation[] = e.violations.map((v) => ({
    field: v.field,
    description: v.description,
    reason: '',
    localizedMessage: undefined,
  }))
  return {
    $case: 'error',
    value: { reason: REASON[e.reason], message: e.message, fieldViolations, quote: e.quote && quoteToProto(e.quote) },
  }
}

/** Bidirectional: one answer per client message, in order; the session logic is domain/checkout.ts. */
export async function* checkoutSession(
  deps: LoyaltyDeps,
  actor: Actor,
  requests: AsyncIterable<CheckoutSessionRequest>,
): AsyncIterable<CheckoutSessionResponse> {
  const session = openCheckout(deps, actor)
  for await (const request of requests) {
    const answer = await session.step(Number(request.sequence), stepOf(request), messageViolations(request))
    yield { sequence: request.sequence, result: resultOf(deps, answer) }
    if (session.done) return
  }
}
