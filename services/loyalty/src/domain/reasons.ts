import { AppError } from '@brewmesh/runtime/errors'

/**
 * The google.rpc.ErrorInfo reasons the Loyalty service answers with besides the contract's
 * QuoteIssue and LedgerRefusal names: every FAILED_PRECONDITION and ABORTED it returns names one
 * (all listed in the README), so programs never read message text.
 */
export const REASONS = {
  /** FAILED_PRECONDITION (ReleaseRedemptions): the order showed up on the order topic; cancel it instead. */
  orderPlaced: 'ORDER_PLACED',
  /** FAILED_PRECONDITION (RedeemReward): the order completed or was cancelled, or its redemptions are final. */
  orderOver: 'ORDER_OVER',
  /** FAILED_PRECONDITION (RedeemReward): the order id already has redemptions of another customer. */
  orderOfAnotherCustomer: 'ORDER_OF_ANOTHER_CUSTOMER',
  /** ABORTED: a concurrent write to the same account or request id won the race; retry unchanged. */
  concurrentModification: 'CONCURRENT_MODIFICATION',
} as const

/** ABORTED with its reason: the call is safe to retry unchanged (same request_id). */
export const concurrentModification = (message: string, cause?: unknown) =>
  new AppError('aborted', `${REASONS.concurrentModification}: ${message}`, [], { reason: REASONS.concurrentModification, cause })
