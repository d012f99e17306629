import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { claimEvents, enqueue, reusableStatement, type OutboxMessage } from '@brewmesh/runtime/db'
import { favoriteDrinkKey, type CommittedOperation, type Favorite, type FavoriteChange, type LearnedDrink } from '../domain/favorite.ts'
import type { ClientChangeAck, FavoritesStore, FavoritesTx } from '../domain/ports.ts'
import type { FavoritesDb, FavoritesTable } from './schema.ts'

function toFavorite(row: Selectable<FavoritesTable>): Favorite {
  return {
    id: row.id,
    customerId: row.customer_id,
    menuItemId: row.menu_item_id,
    displayName: row.display_name,
    customization: row.customization,
    nickname: row.nickname,
    position: row.position,
    revision: row.revision,
    createdRevision: row.created_revision,
    pinned: row.pinned,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    updatedFromDeviceId: row.updated_from_device_id,
    removedAt: row.removed_at ?? undefined,
  }
}

function favoriteRow(f: Favorite, reason = '') {
  return {
    id: f.id,
    customer_id: f.customerId,
    menu_item_id: f.menuItemId,
    display_name: f.displayName,
    customization: JSON.stringify(f.customization),
    drink_key: favoriteDrinkKey(f),
    nickname: f.nickname,
    position: f.position,
    revision: f.revision,
    created_revision: f.createdRevision,
    pinned: f.pinned,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
    updated_by: JSON.stringify(f.updatedBy),
    updated_from_device_id: f.updatedFromDeviceId,
    removed_at: f.removedAt ?? null,
    removal_reason: reason,
  }
}

/** A learned drink as LEARNED reads it: the drinks completed in the window, one row per drink. */
interface LearnedRow {
  completed_count: number
  first_ordered_at: Date
  last_ordered_at: Date
  last_order_id: string
  menu_item_id: string
  display_name: string
  customization: LearnedDrink['customization']
  drink_key: string
}

/**
 * The drinks customer `$1` completed since `$2`, most completed first (then the most recent, then
 * the drink key), each with its latest order's id, name and customization.
 */
const LEARNED = `
  select count(*)::int as completed_count, min(completed_at) as first_ordered_at, max(completed_at) as last_ordered_at,
         (array_agg(order_id order by completed_at desc, order_id desc))[1] as last_order_id,
         (array_agg(menu_item_id order by completed_at desc, order_id desc))[1] as menu_item_id,
         (array_agg(display_name order by completed_at desc, order_id desc))[1] as display_name,
         (array_agg(customization order by completed_at desc, order_id desc))[1] as customization,
         drink_key
    from drink_completions
   where customer_id = $1 and completed_at >= $2
   group by drink_key
   order by completed_count desc, last_ordered_at desc, drink_key`

/**
 * What GetUsual reads, in one statement and one snapshot: the customer's live favorites, a row each
 * in list order (one row of nulls when there are none), each row carrying the learned drinks since
 * `$2` as a JSON array in LEARNED's order. One round trip where two took two pooled connections.
 */
const USUAL_INPUTS = `
  select l.learned, f.*
    from (
      select coalesce(json_agg(d order by d.completed_count desc, d.last_ordered_at desc, d.drink_key), '[]') as learned
        from (${LEARNED}) d
    ) l
    left join lateral (select * from favorites where customer_id = $1 and removed_at is null) f on true
   order by f.position, f.created_at, f.id`

type UsualInputsRow = (Selectable<FavoritesTable> | { [K in keyof Selectable<FavoritesTable>]: null }) & {
  learned: (Omit<LearnedRow, 'first_ordered_at' | 'last_ordered_at'> & { first_ordered_at: string; last_ordered_at: string })[]
}

function toLearned(customerId: string, r: LearnedRow): LearnedDrink {
  return {
    customerId,
    menuItemId: r.menu_item_id,
    displayName: r.display_name,
    customization: r.customization,
    completedCount: r.completed_count,
    firstOrderedAt: r.first_ordered_at,
    lastOrderedAt: r.last_ordered_at,
    lastOrderId: r.last_order_id,
    favoriteId: '',
  }
}

/** Acks are stored as JSON; their favorites' timestamps come back as Dates. */
function reviveAck(json: unknown): ClientChangeAck {
  const ack = json as ClientChangeAck
  const revive = (f: Favorite | undefined) =>
    f && {
      ...f,
      createdAt: new Date(f.createdAt),
      updatedAt: new Date(f.updatedAt),
      removedAt: f.removedAt ? new Date(f.removedAt) : undefined,
    }
  return { ...ack, favorite: revive(ack.favorite), overwritten: revive(ack.overwritten) }
}

/**
 * Rows are written so the partial unique indexes (one live favorite per drink, one pin per
 * customer) hold after every statement: removals first, then unpinning, then pinning.
 */
const writeOrder = (c: FavoriteChange) => (c.kind === 'removed' ? 0 : c.favorite.pinned ? 2 : 1)

/** PostgreSQL implementation of the domain's store; events go to the outbox in the same transaction. */
export function favoritesStore(
  db: Kysely<FavoritesDb>,
  schema: string,
  toOutbox: (op: CommittedOperation) => OutboxMessage[],
): FavoritesStore {
  const learned = async (q: Kysely<FavoritesDb>, customerId: string, since: Date): Promise<LearnedDrink[]> => {
    const { rows } = await q.executeQuery<LearnedRow>(CompiledQuery.raw(LEARNED, [customerId, since]))
    return rows.map((r) => toLearned(customerId, r))
  }

  // Read by every GetUsual (so by every order with "my usual"): built and compiled once.
  const live = reusableStatement((p: { customer_id: string }) =>
    db
      .selectFrom('favorites')
      .selectAll()
      .where('customer_id', '=', p.customer_id)
      .where('removed_at', 'is', null)
      .orderBy('position')
      .orderBy('created_at')
      .orderBy('id'),
  )
  const liveOf = async (q: Kysely<FavoritesDb>, customerId: string) => (await live(q, { customer_id: customerId })).map(toFavorite)

  const txFor = (trx: Transaction<FavoritesDb>): FavoritesTx => ({
    async lock(customerId) {
      await trx
        .insertInto('customers')
        .values({ customer_id: customerId, revision: 0, pruned_through: 0 })
        .onConflict((oc) => oc.doNothing())
        .execute()
      const row = await trx.selectFrom('customers').selectAll().where('customer_id', '=', customerId).forUpdate().executeTakeFirstOrThrow()
      return {
        customerId,
        revision: row.revision,
        prunedThrough: row.pruned_through,
        deletedAt: row.deleted_at ?? undefined,
        live: await liveOf(trx, customerId),
      }
    },
    async lockAll(customerIds) {
      if (customerIds.length === 0) return
      const ids = [...new Set(customerIds)].sort()
      await trx
        .insertInto('customers')
        .values(ids.map((customer_id) => ({ customer_id, revision: 0, pruned_through: 0 })))
        .onConflict((oc) => oc.doNothing())
        .execute()
      // Locked as they are returned, so in id order.
      await trx.selectFrom('customers').select('customer_id').where('customer_id', 'in', ids).orderBy('customer_id').forUpdate().execute()
    },
    async favorite(id) {
      const row = await trx.selectFrom('favorites').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toFavorite(row)
    },
    learned: (customerId, since) => learned(trx, customerId, since),
    async commit(op) {
      for (const change of [...op.changes].sort((a, b) => writeOrder(a) - writeOrder(b))) {
        const row = favoriteRow(change.favorite, change.reason)
        if (change.kind === 'added') await trx.insertInto('favorites').values(row).execute()
        else await trx.updateTable('favorites').set(row).where('id', '=', row.id).execute()
      }
      await trx.updateTable('customers').set({ revision: op.revision }).where('customer_id', '=', op.customerId).execute()
      await enqueue(trx, schema, toOutbox(op))
    },
    recordUsualChange: (op) => enqueue(trx, schema, toOutbox(op)),
    async claimRequest(key, requestHash, favoriteId, at) {
      const claimed = await trx
        .insertInto('add_requests')
        .values({ request_id: key, request_hash: requestHash, favorite_id: favoriteId, created_at: at })
        .onConflict((oc) => oc.doNothing())
        .returning('request_id')
        .executeTakeFirst()
      if (claimed) return undefined
      const earlier = await trx.selectFrom('add_requests').selectAll().where('request_id', '=', key).executeTakeFirstOrThrow()
      return { requestHash: earlier.request_hash, favoriteId: earlier.favorite_id }
    },
    async clientChange(customerId, deviceId, clientChangeId) {
      const row = await trx
        .selectFrom('client_changes')
        .select('ack')
        .where('customer_id', '=', customerId)
        .where('device_id', '=', deviceId)
        .where('client_change_id', '=', clientChangeId)
        .executeTakeFirst()
      return row && reviveAck(row.ack)
    },
    async saveClientChange(customerId, deviceId, ack, at) {
      await trx
        .insertInto('client_changes')
        .values({
          customer_id: customerId,
          device_id: deviceId,
          client_change_id: ack.clientChangeId,
          ack: JSON.stringify(ack),
          created_at: at,
        })
        .execute()
    },
    async recordCompletion(d) {
      const inserted = await trx
        .insertInto('drink_completions')
        .values({
          customer_id: d.customerId,
          order_id: d.orderId,
          drink_key: favoriteDrinkKey(d),
          menu_item_id: d.menuItemId,
          display_name: d.displayName,
          customization: JSON.stringify(d.customization),
          completed_at: d.completedAt,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('order_id')
        .executeTakeFirst()
      return inserted !== undefined
    },
    async forgetCustomer(customerId, at) {
      await trx.updateTable('customers').set({ deleted_at: at }).where('customer_id', '=', customerId).execute()
      await trx.deleteFrom('drink_completions').where('customer_id', '=', customerId).execute()
    },
    claimEvents: (consumer, items, eventIdOf) => claimEvents(trx, consumer, items, eventIdOf),
  })

  return {
    transaction: (work) => db.transaction().execute((trx) => work(txFor(trx))),
    // One snapshot for both reads, so the favorites and the revision agree.
    live: (customerId) =>
      db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          const row = await trx.selectFrom('customers').select('revision').where('customer_id', '=', customerId).executeTakeFirst()
          return { favorites: await liveOf(trx, customerId), revision: row?.revision ?? 0 }
        }),
    changesSince: (customerId, revision) =>
      db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          const row = await trx.selectFrom('customers').selectAll().where('customer_id', '=', customerId).executeTakeFirst()
          const rows = await trx
            .selectFrom('favorites')
            .selectAll()
            .where('customer_id', '=', customerId)
            .where('revision', '>', revision)
            .orderBy('revision')
            .orderBy('id')
            .execute()
          return { favorites: rows.map(toFavorite), revision: row?.revision ?? 0, prunedThrough: row?.pruned_through ?? 0 }
        }),
    async usualInputs(customerId, since) {
      const { rows } = await db.executeQuery<UsualInputsRow>(CompiledQuery.raw(USUAL_INPUTS, [customerId, since]))
      return {
        live: rows.flatMap((row) => (row.id === null ? [] : [toFavorite(row)])),
        // The same on every row: the learned drinks as JSON, its dates as text.
        learned: (rows[0]?.learned ?? []).map((r) =>
          toLearned(customerId, { ...r, first_ordered_at: new Date(r.first_ordered_at), last_ordered_at: new Date(r.last_ordered_at) }),
        ),
      }
    },
    learned: (customerId, since) => learned(db, customerId, since),
    async pruneTombstones(before) {
      const { rows } = await sql<{ pruned: number }>`
        with pruned as (delete from favorites where removed_at < ${before} returning customer_id, revision),
             bumped as (
               update customers c set pruned_through = greatest(c.pruned_through, p.revision)
                 from (select customer_id, max(revision) as revision from pruned group by customer_id) p
                where c.customer_id = p.customer_id
               returning 1)
        select (select count(*) from pruned)::int as pruned, (select count(*) from bumped) as customers`.execute(db)
      return rows[0]?.pruned ?? 0
    },
    async pruneIdempotencyKeys(before) {
      const requests = await db.deleteFrom('add_requests').where('created_at', '<', before).executeTakeFirst()
      const changes = await db.deleteFrom('client_changes').where('created_at', '<', before).executeTakeFirst()
      return Number(requests.numDeletedRows) + Number(changes.numDeletedRows)
    },
  }
}
