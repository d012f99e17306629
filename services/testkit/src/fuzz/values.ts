/** A generated value and what kind of value it is, for the report ("NUL character", "int64 2^32"). */
export interface Labelled<T> {
  value: T
  label: string
}

/** Real values of the world under test, so fuzzed requests name things that exist. */
export interface Pool {
  /** Ids of customers, households, orders, favorites, menu items, rewards... */
  ids: readonly Labelled<string>[]
  /** next_page_token values of real list responses, with the request type of their listing. */
  pageTokens: readonly PageToken[]
  /** Revisions and versions the world has reached. */
  numbers: readonly Labelled<bigint>[]
}

/** A real page token, given for a request of type `request` (e.g. brewmesh.order.v1.ListOrdersRequest). */
export interface PageToken extends Labelled<string> {
  request: string
}

/** A value with its label. */
export const labelled = <T>(value: T, label: string): Labelled<T> => ({ value, label })
