import type pg from 'pg'
import { DescribedOnce, type RowShapes, type WireConnection } from './described-once.ts'

const statement = Symbol('statement')
const beginAnswered = Symbol('beginAnswered')

/**
 * A transaction's BEGIN and its first statement in one write and one round trip: Parse, Bind and
 * Execute of the BEGIN, then the statement's own messages and their Sync, which PostgreSQL answers
 * together. An explicit BEGIN keeps the transaction open past the Sync, so what follows runs in it.
 * The statement keeps its prepared name: pg tracks which names a connection has parsed from
 * the ParseComplete it is answered, and the BEGIN's comes first, so until the BEGIN is answered
 * the query shows pg no name (a ParseComplete then is the BEGIN's, not the statement's).
 */
class BeginThen extends DescribedOnce {
  private readonly begin: string
  private [statement]: string | undefined
  private [beginAnswered] = true

  constructor(begin: string, text: string, values: unknown[], name: string | undefined, shapes: RowShapes) {
    super(text, values, shapes)
    this.begin = begin
    this.name = name
    // Without parameters pg would send the text as a simple Query, which has its own answer.
    this.queryMode = 'extended'
  }

  // pg.Query's constructor assigns `name` (undefined here), so it is an accessor over a symbol.
  override get name(): string | undefined {
    return this[beginAnswered] ? this[statement] : undefined
  }

  override set name(value: string | undefined) {
    this[statement] = value
  }

  override submit(connection: WireConnection): Error | null {
    // pg's one refusal that can apply here (pg/lib/query.js submit), checked before anything is
    // written: a BEGIN sent without its statement would leave the connection waiting for the rest.
    const name = this[statement]
    const previous = name === undefined ? undefined : (connection.parsedStatements[name] ?? connection.submittedNamedStatements[name])
    if (previous !== undefined && previous !== this.text) {
      return new Error(`Prepared statements must be unique - '${name}' was used for a different statement`)
    }
    connection.stream.cork()
    try {
      connection.parse({ text: this.begin })
      connection.bind({})
      connection.execute({})
      super.submit(connection) // its checks passed above: it sends
      this[beginAnswered] = false
      return null
    } finally {
      connection.stream.uncork()
    }
  }

  /** The BEGIN's CommandComplete is not a result of the statement. */
  override handleCommandComplete(message: unknown, connection: WireConnection): void {
    if (!this[beginAnswered]) {
      this[beginAnswered] = true
      return
    }
    super.handleCommandComplete(message, connection)
  }

  override handleError(err: Error, connection: WireConnection): void {
    // Refused before the BEGIN was answered: the statement was skipped, never parsed.
    if (!this[beginAnswered] && this[statement]) delete connection.submittedNamedStatements[this[statement]]
    this[beginAnswered] = true
    super.handleError(err, connection)
  }
}

/**
 * Runs `begin` (begin, or start transaction ...) and then `text` in one round trip; answers the
 * statement's result. A named statement's rows are described once per connection (`shapes`).
 */
export function beginWith(
  client: pg.PoolClient,
  begin: string,
  text: string,
  values: unknown[],
  name: string | undefined,
  shapes: RowShapes,
): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const query = new BeginThen(begin, text, values, name, shapes)
    query.callback = (err, result) => (err ? reject(err) : resolve(result))
    client.query(query as unknown as pg.Query)
  })
}
