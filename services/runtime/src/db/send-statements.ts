import { createHash } from 'node:crypto'
import type pg from 'pg'
import { beginWith } from './begin-with-statement.ts'
import { DescribedOnce, type RowShapes } from './described-once.ts'

/**
 * How a pooled connection sends kysely's statements: fewer messages for PostgreSQL to parse and
 * fewer round trips, the same results.
 *
 * Statements with parameters run as named prepared statements: PostgreSQL parses, analyses and
 * plans a statement once per connection instead of on every execution. kysely sends each statement
 * as text with its parameters, which pg runs unnamed (parse, bind, execute, every time); an order
 * is about 26 such statements across the mesh, and parsing and planning them was a large part of
 * PostgreSQL's CPU per order (bench/README.md, "Where an order's work goes").
 *
 * - A statement's name is a hash of its text, so two texts never share one.
 * - Only statements with parameters are prepared: begin, commit and other fixed texts are not.
 * - A statement's rows are described on its first execution on a connection, not on every one
 *   (described-once.ts).
 * - A connection prepares at most `maxPerConnection` statements; past that (texts built with a
 *   varying number of rows or list items) statements run unnamed, so a long-lived connection's
 *   server memory stays bounded. 0 prepares none.
 * - A migration that changes a table under a prepared `select *` makes PostgreSQL refuse the
 *   statement ("cached plan must not change result type", 0A000) on every connection that
 *   prepared it, as happens when another replica migrates during a rolling deploy. The connection
 *   then prepares afresh under new names, and a statement outside a transaction is run again at
 *   once; one inside a transaction fails with it, as any statement error does.
 *
 * A transaction's BEGIN goes with its first statement (begin-with-statement.ts): kysely awaits
 * the BEGIN before it sends anything else, so it is answered at once here and sent in the same
 * write as the statement that follows, one round trip where it took two. A transaction that ends
 * before any statement (commit or rollback next) sends nothing at all. Only the form kysely uses,
 * query(text, values) with a promise, is changed; any other form after a held BEGIN sends the
 * BEGIN first, on its own.
 */
export function sendStatements(client: pg.PoolClient, maxPerConnection: number): void {
  const marked = client as pg.PoolClient & { [patched]?: true; _txStatus?: string | null }
  if (marked[patched]) return
  marked[patched] = true
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>
  let names = new Map<string, string>()
  let shapes: RowShapes = new Map()
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
  // the profiles); a Query made from the text and then named skips that copy. Its rows are
  // described on its first execution on this connection only (described-once.ts).
  const named = (name: string, text: string, values: unknown[]) =>
    new Promise<pg.QueryResult>((resolve, reject) => {
      const submittable = new DescribedOnce(text, values, shapes)
      submittable.name = name
      submittable.callback = (err, result) => (err ? reject(err) : resolve(result))
      client.query(submittable as unknown as pg.Query)
    })
  // Statements with parameters run named; the first of a transaction carries its BEGIN.
  const send = (text: string, values: unknown[], begin: string | undefined): Promise<pg.QueryResult> => {
    const name = values.length > 0 ? nameOf(text) : undefined
    if (begin !== undefined) return beginWith(client, begin, text, values, name, shapes)
    return name === undefined ? query(text, values) : named(name, text, values)
  }
  let heldBegin: string | undefined
  client.query = ((...args: unknown[]) => {
    const [text, values] = args
    const kysely = args.length === 2 && typeof text === 'string' && Array.isArray(values)
    if (kysely && values.length === 0 && BEGIN.test(text)) {
      heldBegin = text
      return Promise.resolve(answered('BEGIN'))
    }
    const begin = heldBegin
    heldBegin = undefined
    if (!kysely) {
      // Queued ahead of it; a BEGIN fails only with its connection, and then this fails too.
      if (begin !== undefined) query(begin).catch(() => undefined)
      return query(...args)
    }
    // A transaction with no statement: nothing was sent, so there is nothing to end.
    const ended = begin !== undefined && values.length === 0 ? END.exec(text) : null
    if (ended) return Promise.resolve(answered(ended[1]!.toUpperCase()))
    // 'I' with no BEGIN held: no transaction open, so the statement may run again if its plan went stale.
    const autocommit = begin === undefined && marked._txStatus === 'I'
    return send(text, values, begin).catch((err: unknown) => {
      if (!isStalePlan(err)) throw err
      generation++
      names = new Map()
      shapes = new Map()
      if (autocommit) return query(text, values)
      throw err
    })
  }) as typeof client.query
}

// kysely's beginTransaction sends `begin`, or `start transaction` with an isolation level or access mode.
const BEGIN = /^\s*(begin|start\s+transaction)\b/i
const END = /^\s*(commit|rollback)\s*;?\s*$/i
const answered = (command: string): pg.QueryResult => ({ command, rowCount: null, oid: 0, rows: [], fields: [] })

const patched = Symbol('brewmesh.sendStatements')

const isStalePlan = (err: unknown) =>
  (err as { code?: string }).code === '0A000' && /cached plan must not change result type/i.test((err as Error).message)

/** The name a statement's text is prepared under: stable, and within PostgreSQL's 63 bytes. */
export function statementName(text: string, generation = 0): string {
  return `bm${generation}_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`
}
