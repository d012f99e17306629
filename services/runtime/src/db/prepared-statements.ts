import { createHash } from 'node:crypto'
import pg from 'pg'

/**
 * Runs a connection's statements as named prepared statements: PostgreSQL parses, analyses and
 * plans a statement once per connection instead of on every execution. kysely sends each statement
 * as text with its parameters, which pg runs unnamed (parse, bind, execute, every time); an order
 * is about 26 such statements across the mesh, and parsing and planning them was a large part of
 * PostgreSQL's CPU per order (bench/README.md, "Where an order's work goes").
 *
 * - A statement's name is a hash of its text, so two texts never share one.
 * - Only statements with parameters are prepared: begin, commit and other fixed texts stay on the
 *   simple protocol, one message each.
 * - A connection prepares at most `maxPerConnection` statements; past that (texts built with a
 *   varying number of rows or list items) statements run unnamed, so a long-lived connection's
 *   server memory stays bounded.
 * - A migration that changes a table under a prepared `select *` makes PostgreSQL refuse the
 *   statement ("cached plan must not change result type", 0A000) on every connection that
 *   prepared it, as happens when another replica migrates during a rolling deploy. The connection
 *   then prepares afresh under new names, and a statement outside a transaction is run again at
 *   once; one inside a transaction fails with it, as any statement error does.
 */
export function usePreparedStatements(client: pg.PoolClient, maxPerConnection: number): void {
  const marked = client as pg.PoolClient & { [prepared]?: true; _txStatus?: string | null }
  if (marked[prepared] || maxPerConnection <= 0) return
  marked[prepared] = true
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>
  let names = new Map<string, string>()
  let generation = 0
  let preparedCount = 0
  const nameOf = (text: string): string | undefined => {
    const known = names.get(text)
    if (known !== undefined || preparedCount >= maxPerConnection) return known
    const name = statementName(text, generation)
    names.set(text, name)
    preparedCount++
    return name
  }
  // pg copies a query config object property by property (about 10 µs a statement, measured in
  // the profiles); a Query made from the text and then named skips that copy.
  const named = (name: string, text: string, values: unknown[]) =>
    new Promise<pg.QueryResult>((resolve, reject) => {
      // name and callback are Query's own fields (pg/lib/query.js), not in its typings.
      const submittable = new pg.Query(text, values) as pg.Query & {
        name: string
        callback: (err: Error | null, result: pg.QueryResult) => void
      }
      submittable.name = name
      submittable.callback = (err, result) => (err ? reject(err) : resolve(result))
      client.query(submittable)
    })
  // Only the form kysely uses, query(text, values) with a promise, is prepared. A callback, a
  // config object or a cursor (a Submittable) goes through untouched.
  client.query = ((...args: unknown[]) => {
    const [text, values] = args
    if (args.length !== 2 || typeof text !== 'string' || !Array.isArray(values) || values.length === 0) return query(...args)
    const name = nameOf(text)
    if (name === undefined) return query(text, values)
    // 'I': no transaction open, so the statement may run again if its plan went stale.
    const autocommit = marked._txStatus === 'I'
    return named(name, text, values).catch((err: unknown) => {
      if (!isStalePlan(err)) throw err
      generation++
      names = new Map()
      if (autocommit) return query(text, values)
      throw err
    })
  }) as typeof client.query
}

const prepared = Symbol('brewmesh.preparedStatements')

const isStalePlan = (err: unknown) =>
  (err as { code?: string }).code === '0A000' && /cached plan must not change result type/i.test((err as Error).message)

/** The name a statement's text is prepared under: stable, and within PostgreSQL's 63 bytes. */
export function statementName(text: string, generation = 0): string {
  return `bm${generation}_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`
}
