/**
 * The google.rpc.ErrorInfo reasons the Favorites service answers with, for programs: every
 * FAILED_PRECONDITION and ABORTED it returns names one (listed in the README).
 */
export const REASONS = {
  /** ABORTED: expected_revision is not the current one; re-read, merge, retry. */
  revisionMismatch: 'REVISION_MISMATCH',
  /** FAILED_PRECONDITION: the customer already has the most favorites allowed. */
  favoriteLimit: 'FAVORITE_LIMIT_REACHED',
  /** FAILED_PRECONDITION: the customer was deleted; their favorites cannot change. */
  customerDeleted: 'CUSTOMER_DELETED',
} as const
