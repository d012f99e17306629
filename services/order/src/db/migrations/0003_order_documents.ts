import { sql, type Kysely } from 'kysely'

// Frozen, like every migration: it imports no live code.
//
// orders.doc held the order in the contract's proto3 JSON (Order.toJSON: enum names, int64 money
// as strings, default values left out, one timestamp field per status). From here on it holds the
// service's own order model: statuses and kinds as lower-case words, money as integer minor units
// of the order's currency, `entered` for the per-status times, every field present. A line's
// customization stays the contract's DrinkCustomization in its JSON form and is not touched.

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {})
const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : [])
const num = (v: unknown): number => (typeof v === 'number' ? v : 0)
/** A proto3 JSON Money's amount: an int64 decimal string, absent when zero. */
const minor = (m: unknown): number => Number(obj(m)['amountMinor'] ?? 0)
/** An enum name without its prefix, lower case ("ORDER_STATUS_PAID" → "paid"); absent or unspecified: undefined. */
const word = (v: unknown, prefix: string): string | undefined => {
  const name = str(v)
  return name.startsWith(prefix) && !name.endsWith('_UNSPECIFIED') ? name.slice(prefix.length).toLowerCase() : undefined
}
const time = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)

export function convert(v1: Json): Json {
  if ('entered' in v1) return v1 // written by the new model already
  const payment = obj(v1['payment'])
  const cancelledBy = v1['cancelledBy'] ? obj(v1['cancelledBy']) : undefined
  const entered = Object.fromEntries(
    (['placed', 'paid', 'preparing', 'ready', 'completed', 'cancelled'] as const)
      .map((status) => [status, time(v1[`${status}At`])])
      .filter(([, at]) => at !== undefined),
  ) as Json
  return {
    id: str(v1['id']),
    customerId: str(v1['customerId']),
    householdId: str(v1['householdId']),
    customerDisplayName: str(v1['customerDisplayName']),
    kind: word(v1['kind'], 'ORDER_KIND_') ?? 'single',
    status: word(v1['status'], 'ORDER_STATUS_') ?? 'placed',
    currency: str(obj(v1['total'])['currencyCode']) || str(obj(v1['subtotal'])['currencyCode']) || 'USD',
    lines: arr(v1['lines']).map((value) => {
      const l = obj(value)
      return {
        id: str(l['id']),
        menuItemId: str(l['menuItemId']),
        menuItemName: str(l['menuItemName']),
        category: str(l['category']),
        customization: obj(l['customization']),
        quantity: num(l['quantity']),
        unitPrice: minor(l['unitPrice']),
        lineTotal: minor(l['lineTotal']),
        memberCustomerId: str(l['memberCustomerId']),
        memberDisplayName: str(l['memberDisplayName']),
        source: word(l['source'], 'LINE_SOURCE_') ?? 'menu',
        favoriteId: str(l['favoriteId']),
      }
    }),
    subtotal: minor(v1['subtotal']),
    discount: minor(v1['discount']),
    tax: minor(v1['tax']),
    total: minor(v1['total']),
    taxRateBps: num(v1['taxRateBps']),
    appliedRewards: arr(v1['appliedRewards']).map((value) => {
      const r = obj(value)
      return {
        rewardId: str(r['rewardId']),
        redemptionId: str(r['redemptionId']),
        rewardName: str(r['rewardName']),
        discount: minor(r['discount']),
        pointsCost: str(r['pointsCost']) || '0',
        lineIds: arr(r['lineIds']).map(str),
      }
    }),
    payment: {
      status: word(payment['status'], 'PAYMENT_STATUS_') ?? 'pending',
      amount: minor(payment['amount']),
      processorReference: str(payment['processorReference']),
      declineReason: str(payment['declineReason']),
      refundedAmount: payment['refundedAmount'] === undefined ? undefined : minor(payment['refundedAmount']),
      processedAt: time(payment['processedAt']),
      refundedAt: time(payment['refundedAt']),
    },
    memberBreakdowns: arr(v1['memberBreakdowns']).map((value) => {
      const b = obj(value)
      return {
        memberCustomerId: str(b['memberCustomerId']),
        displayName: str(b['displayName']),
        lineIds: arr(b['lineIds']).map(str),
        itemCount: num(b['itemCount']),
        subtotal: minor(b['subtotal']),
        discount: minor(b['discount']),
        tax: minor(b['tax']),
        total: minor(b['total']),
      }
    }),
    note: str(v1['note']),
    baristaId: str(v1['baristaId']),
    claimedAt: time(v1['claimedAt']),
    cancelReason: str(v1['cancelReason']),
    cancelCode: word(v1['cancelReasonCode'], 'CANCEL_REASON_CODE_'),
    cancelledBy: cancelledBy && {
      kind: word(cancelledBy['kind'], 'ACTOR_KIND_') ?? 'system',
      id: str(cancelledBy['id']),
      displayName: str(cancelledBy['displayName']),
    },
    requestId: str(v1['requestId']),
    version: num(v1['version']),
    entered,
    updatedAt: time(v1['updatedAt']) ?? time(v1['placedAt']),
  }
}

export async function up(db: Kysely<unknown>): Promise<void> {
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const { rows } = await sql<{
      id: string
      doc: Json
    }>`select id::text as id, doc from orders where id > ${after}::uuid order by id limit 500`.execute(db)
    if (rows.length === 0) return
    const ids = rows.map((r) => r.id)
    const docs = rows.map((r) => JSON.stringify(convert(r.doc)))
    await sql`update orders set doc = v.doc::jsonb from (select unnest(${ids}::uuid[]) as id, unnest(${docs}::text[]) as doc) v where orders.id = v.id`.execute(
      db,
    )
    after = ids.at(-1)!
  }
}
