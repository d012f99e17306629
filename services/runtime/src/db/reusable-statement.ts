import type { Compilable, CompiledQuery, Kysely } from 'kysely'

// Kysely executors of any schema (a db or a transaction) can run these statements.
type Executor = Kysely<any> // eslint-disable-line @typescript-eslint/no-explicit-any

// A placeholder is a string no value can be: NUL never reaches a statement (PostgreSQL text cannot
// hold it, and the contracts refuse it as bad input).
const MARK = '\u0000brewmesh.placeholder:'

/** A statement kysely builds and compiles once; run it with its values (an executor: a db or a transaction). */
export type ReusableStatement<P, R> = (executor: Executor, values: P) => Promise<R[]>

/**
 * A statement built with the query builder once, then run many times with different values. kysely
 * builds a statement as a tree of frozen nodes and compiles it to text on every execution; on the
 * hot paths (a Loyalty account read, a ledger post, an order insert) building and compiling cost
 * more than PostgreSQL takes to run the prepared statement (bench/README.md, "Where an order's work
 * goes").
 *
 * `build` receives placeholders: `p.customer_id` stands for `values.customer_id`. Use them where
 * the builder takes a value (comparisons, inserted and updated values, limits), never where its
 * shape depends on a value (an `in` list, a column chosen by a value); such statements stay plain
 * builder calls. `columns` lists the placeholders `values(p)` or `set(p)` should see as an object's
 * keys. The text is the same on every run, so it also stays one prepared statement.
 */
export function reusableStatement<P extends object, R>(
  build: (p: P) => Compilable<R>,
  columns: readonly (keyof P & string)[] = [],
): ReusableStatement<P, R> {
  let compiled: { query: CompiledQuery<R>; slots: (string | undefined)[] } | undefined
  return async (executor, values) => {
    if (!compiled) {
      const query = build(placeholders<P>(columns)).compile()
      const slots = query.parameters.map((v) => (typeof v === 'string' && v.startsWith(MARK) ? v.slice(MARK.length) : undefined))
      compiled = { query, slots }
    }
    const { query, slots } = compiled
    const parameters = slots.map((slot, i) => (slot === undefined ? query.parameters[i] : (values as Record<string, unknown>)[slot]))
    return (await executor.executeQuery<R>({ ...query, parameters })).rows
  }
}

/** Every key of T, listed once, for `columns`: the compiler refuses a list that misses one. */
export const columnsOf =
  <T>() =>
  <const K extends readonly (keyof T & string)[]>(keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : never)) =>
    keys

/** An object whose every property is its own placeholder; `columns` are also its enumerable keys. */
function placeholders<P>(columns: readonly string[]): P {
  const target = Object.fromEntries(columns.map((c) => [c, MARK + c]))
  return new Proxy(target, { get: (t, name) => (typeof name === 'string' ? (t[name] ?? MARK + name) : undefined) }) as P
}
