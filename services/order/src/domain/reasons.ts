/**
 * The machine-readable reasons of the Order Service's refusals, sent as google.rpc.ErrorInfo with
 * FAILED_PRECONDITION (listed in the service README). BaristaSession answers a refused command with
 * the rejection of the same name.
 */
export const REASON = {
  /** PlaceOrder: the paying customer does not exist. */
  customerNotFound: 'CUSTOMER_NOT_FOUND',
  customerInactive: 'CUSTOMER_INACTIVE',
  /** PlaceGroupOrder: the payer belongs to no household. */
  noHousehold: 'NO_HOUSEHOLD',
  memberNotFound: 'MEMBER_NOT_FOUND',
  memberOutsideHousehold: 'MEMBER_OUTSIDE_HOUSEHOLD',
  /** A "my usual" line for a member who has none. */
  noUsual: 'NO_USUAL',
  /** A "my usual" line whose drink is no longer on the menu. */
  usualNotOnMenu: 'USUAL_NOT_ON_MENU',
  itemUnavailable: 'ITEM_UNAVAILABLE',
  /** A reward the Loyalty service refused without a reason of its own (it usually gives one, passed on as is). */
  rewardNotRedeemed: 'REWARD_NOT_REDEEMED',
  /** The order is not in a status the command applies to. */
  illegalTransition: 'ILLEGAL_TRANSITION',
  /** AdvanceOrder: expected_status is neither the order's status nor the one before it. */
  statusMismatch: 'STATUS_MISMATCH',
  orderCancelled: 'ORDER_CANCELLED',
  /** BaristaSession claim: another barista holds the order. */
  alreadyClaimed: 'ALREADY_CLAIMED',
  /** BaristaSession advance or release of an order this barista does not hold. */
  notClaimedByYou: 'NOT_CLAIMED_BY_YOU',
  /** BaristaSession claim of the next order while the queue is empty. */
  queueEmpty: 'QUEUE_EMPTY',
} as const

export type Reason = (typeof REASON)[keyof typeof REASON]
