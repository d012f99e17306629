import { credentials, Metadata } from '@grpc/grpc-js'
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthClient,
  type HealthCheckResponse,
} from '@brewmesh/gen/grpc/health/v1/health.ts'
import { sqlQuery } from '../env.ts'

/** The grpc.health.v1 status of `service` ("" for the server as a whole) on a port, or the error's message. */
export async function servingStatus(port: number, service: string): Promise<string> {
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure())
  try {
    return await new Promise<string>((resolve) =>
      client.check({ service }, new Metadata(), { deadline: Date.now() + 5000 }, (err, r?: HealthCheckResponse) =>
        resolve(err ? err.message : r?.status === Serving.SERVING ? 'SERVING' : `status ${r?.status}`),
      ),
    )
  } finally {
    client.close()
  }
}

/** A property of a service's data that no request may break, as SQL returning the rows that break it. */
export interface Invariant {
  service: 'customer' | 'favorites' | 'loyalty' | 'order'
  name: string
  sql: string
}

// These read the services' own tables (each in its test schema): cheap checks a fuzzer cannot
// make through the API alone, such as "no account's balance ever disagrees with its ledger".
export const INVARIANTS: Invariant[] = [
  {
    service: 'loyalty',
    name: "every account's balance equals the sum of its ledger entries and is never negative",
    sql: `select a.customer_id, a.balance, coalesce(sum(e.points), 0) as ledger, count(e.id) as entries,
                 max(abs(e.points)) as largest_entry
            from accounts a left join ledger_entries e on e.customer_id = a.customer_id
           group by a.customer_id, a.balance
          having a.balance <> coalesce(sum(e.points), 0) or a.balance < 0`,
  },
  {
    service: 'loyalty',
    name: "every account's reserved points equal the points of its reserved redemptions",
    sql: `select a.customer_id, a.reserved_points, coalesce(sum(r.points), 0) as reserved
            from accounts a left join redemptions r on r.customer_id = a.customer_id and r.state = 'reserved'
           group by a.customer_id, a.reserved_points
          having a.reserved_points <> coalesce(sum(r.points), 0)`,
  },
  {
    service: 'order',
    name: "every order's total is subtotal - discount + tax, and not negative",
    sql: `select id, doc->'subtotal' as subtotal, doc->'discount' as discount, doc->'tax' as tax, doc->'total' as total
            from orders
           where coalesce((doc->'total'->>'amountMinor')::bigint, 0)
                   <> coalesce((doc->'subtotal'->>'amountMinor')::bigint, 0) - coalesce((doc->'discount'->>'amountMinor')::bigint, 0)
                      + coalesce((doc->'tax'->>'amountMinor')::bigint, 0)
              or coalesce((doc->'total'->>'amountMinor')::bigint, 0) < 0`,
  },
  {
    service: 'favorites',
    name: "no favorite's revision is ahead of its customer's favorites revision",
    sql: `select f.id, f.revision, c.revision as customer_revision
            from favorites f join customers c on c.customer_id = f.customer_id
           where f.revision > c.revision`,
  },
]

/** The rows that break each invariant (none: it holds). */
export async function brokenInvariants(
  envs: Record<Invariant['service'], Record<string, string>>,
): Promise<{ name: string; rows: unknown[] }[]> {
  const broken: { name: string; rows: unknown[] }[] = []
  for (const invariant of INVARIANTS) {
    const rows = await sqlQuery(envs[invariant.service], invariant.sql)
    if (rows.length > 0) broken.push({ name: `${invariant.service}: ${invariant.name}`, rows: rows.slice(0, 5) })
  }
  return broken
}
