import type { PgClient } from '../lib/pg.ts'

/** Connections to the two schemas the checks read: the Order Service's and the Loyalty service's. */
export interface CheckDatabases {
  orders: PgClient
  loyalty: PgClient
}

export interface OrderCounts {
  orders: number
  requestIds: number
  pendingPayments: number
}

/** A check's verdict with the figures behind it. Reported, never asserted. */
export interface Check {
  name: string
  pass: boolean
  figures: string
}

export interface RunChecks {
  counts: OrderCounts
  /** Redemptions reserved since the run began, by state (reserved, confirmed, released). */
  redemptions: Record<string, number>
  /** Reserved redemptions whose order is not in the order schema: points held for nothing. */
  stranded: number
  checks: Check[]
}

/** The run's orders: their request ids carry the run's prefix. */
export async function countOrders(db: PgClient, requestPrefix: string): Promise<OrderCounts> {
  const { rows } = await db.query<{ orders: number; request_ids: number; pending: number }>(
    `select count(*)::int as orders, count(distinct request_id)::int as request_ids,
       count(*) filter (where payment_status = 1)::int as pending
     from orders where request_id like $1`,
    [`${requestPrefix}:%`],
  )
  const row = rows[0]!
  return { orders: row.orders, requestIds: row.request_ids, pendingPayments: row.pending }
}

/** Polls until none of the run's orders waits for its payment, at most `timeoutMs`. */
export async function settlePayments(db: PgClient, requestPrefix: string, timeoutMs: number, signal: AbortSignal): Promise<OrderCounts> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const counts = await countOrders(db, requestPrefix)
    if (counts.pendingPayments === 0 || Date.now() > deadline) return counts
    signal.throwIfAborted()
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function redemptionsSince(db: PgClient, since: Date): Promise<{ byState: Record<string, number>; reservedOrders: string[] }> {
  const states = await db.query<{ state: string; n: number }>(
    'select state, count(*)::int as n from redemptions where reserved_at >= $1 group by state',
    [since],
  )
  const reserved = await db.query<{ order_id: string }>(
    `select distinct order_id from redemptions where state = 'reserved' and reserved_at >= $1`,
    [since],
  )
  return { byState: Object.fromEntries(states.rows.map((r) => [r.state, r.n])), reservedOrders: reserved.rows.map((r) => r.order_id) }
}

async function existingOrders(db: PgClient, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>('select id::text as id from orders where id::text = any($1::text[])', [ids])
  return new Set(rows.map((r) => r.id))
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function orderPerCall(counts: OrderCounts, ok: number): Check {
  const extra = counts.orders - ok
  const why =
    extra > 0 ? `: ${plural(extra, 'order')} placed for calls not answered OK` : extra < 0 ? `: ${-extra} OK calls without an order` : ''
  return { name: 'every OK call is one order', pass: extra === 0, figures: `${plural(counts.orders, 'order')} for ${ok} OK calls${why}` }
}

/**
 * After a run (its payments settled): every OK call is exactly one order, no request id twice, no
 * payment still pending, and no loyalty reservation left without its order.
 */
export async function checkRun(
  dbs: CheckDatabases,
  run: { requestPrefix: string; startedAt: Date; ok: number; paymentsSeconds: number },
  counts: OrderCounts,
): Promise<RunChecks> {
  const { byState, reservedOrders } = await redemptionsSince(dbs.loyalty, run.startedAt)
  const found = await existingOrders(dbs.orders, reservedOrders)
  const stranded = reservedOrders.filter((id) => !found.has(id)).length
  const states = ['reserved', 'confirmed', 'released'].map((s) => `${byState[s] ?? 0} ${s}`).join(', ')
  return {
    counts,
    redemptions: byState,
    stranded,
    checks: [
      orderPerCall(counts, run.ok),
      {
        name: 'no request id twice',
        pass: counts.requestIds === counts.orders,
        figures: `${plural(counts.orders, 'order')}, ${plural(counts.requestIds, 'request id')}`,
      },
      {
        name: 'payments settled',
        pass: counts.pendingPayments === 0,
        figures: `${counts.pendingPayments} of ${plural(counts.orders, 'order')} pending ${run.paymentsSeconds.toFixed(1)} s after the run`,
      },
      {
        name: 'nothing stays reserved without its order',
        pass: stranded === 0,
        figures: `${plural(stranded, 'reserved redemption')} whose order does not exist (redemptions since the run began: ${states})`,
      },
    ],
  }
}
