import { sql, type Kysely } from 'kysely'

// Frozen, like every migration: it imports no live code.
//
// An order's document makes its row longer than PostgreSQL's TOAST threshold (about 2 KB), so
// every insert and every update of an order compresses it, with pglz unless told otherwise: under
// load that was the third busiest function in PostgreSQL, after malloc and its hash table lookups
// (bench/README.md, place-order, nineteenth session). lz4 compresses the same document about six
// times cheaper. Only the values written from now on use it; documents already stored keep pglz
// until their order changes, and both read the same. The change is to the column's settings only:
// no table rewrite. A server built without lz4 refuses it (feature_not_supported), and the
// documents keep the default.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    do $$
    begin
      alter table orders alter column doc set compression lz4;
    exception when feature_not_supported then
      raise notice 'this server has no lz4: orders.doc keeps the default compression';
    end
    $$`.execute(db)
}
