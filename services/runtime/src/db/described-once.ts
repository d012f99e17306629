import pg from 'pg'
import pgUtils from 'pg/lib/utils.js'

/** pg's wire connection, as much of it as a query's submit uses (pg/lib/connection.js, not in its typings). */
export interface WireConnection {
  stream: { cork(): void; uncork(): void }
  parsedStatements: Record<string, string | undefined>
  submittedNamedStatements: Record<string, string | undefined>
  parse(message: { text: string; name?: string }): void
  bind(message: {
    portal?: string
    statement?: string
    values?: unknown[]
    binary?: boolean
    valueMapper?: (value: unknown) => unknown
  }): void
  execute(message: { portal?: string; rows?: number }): void
  close(message: { type: 'S' | 'P'; name?: string }): void
  sync(): void
}

/** What pg's Result keeps of a RowDescription (pg/lib/result.js addFields), not in its typings. */
interface ResultInternals {
  fields: unknown[]
  _parsers: unknown[] | undefined
  _prebuiltEmptyResultObject: Record<string, null> | null
}

// pg.Query's own fields and methods used here (pg/lib/query.js), not in its typings.
export interface QueryInternals {
  text: string
  values: unknown[]
  name: string | undefined
  queryMode: string | undefined
  portal: string
  rows: number | undefined
  binary: boolean | undefined
  callback: (err: Error | null, result: pg.QueryResult) => void
  _result: ResultInternals
  _accumulateRows: boolean
  submit(connection: WireConnection): Error | null
  prepare(connection: WireConnection): void
  hasBeenParsed(connection: WireConnection): boolean
  _getRows(connection: WireConnection, rows: number | undefined): void
  handleRowDescription(message: { fields: unknown[] }): void
  handleCommandComplete(message: unknown, connection: WireConnection): void
  handleError(err: Error, connection: WireConnection): void
}

/** A statement's rows as its first execution on a connection described them: their fields and pg's parsers for them. */
export interface RowShape {
  fields: unknown[]
  parsers: unknown[] | undefined
  emptyRow: Record<string, null> | null
}

/** The row shapes of one connection's prepared statements, by statement name. */
export type RowShapes = Map<string, RowShape>

const NO_ROWS: RowShape = { fields: [], parsers: undefined, emptyRow: null }

const QueryBase = pg.Query as unknown as new (text: string, values: unknown[]) => QueryInternals

/**
 * A named prepared statement whose rows are described once per connection. pg asks PostgreSQL to
 * describe the rows of every execution (Describe), and parses the answer and builds a parser per
 * column again each time: for a row as wide as Loyalty's redemption context (40 columns), 25 to
 * 50 µs of the service's CPU an execution (bench/README.md, round-trips, twenty-first session).
 * A prepared statement's rows cannot change on its connection: when a migration would
 * change them, PostgreSQL refuses the statement (0A000, send-statements.ts), which is then prepared
 * afresh under a new name. So the first execution is described, its fields and parsers are kept
 * under the statement's name, and every later one is bound and executed without a Describe, its
 * rows read with what was kept.
 */
export class DescribedOnce extends QueryBase {
  private readonly shapes: RowShapes
  private describing = false

  /** Its `name` is set after construction, as with pg.Query (undefined: an unnamed statement, described every time). */
  constructor(text: string, values: unknown[], shapes: RowShapes) {
    super(text, values)
    this.shapes = shapes
  }

  override prepare(connection: WireConnection): void {
    const shape = this.name === undefined ? undefined : this.shapes.get(this.name)
    if (shape === undefined || !this.hasBeenParsed(connection)) {
      this.describing = this.name !== undefined
      super.prepare(connection)
      return
    }
    // pg's prepare (pg/lib/query.js) without its Describe.
    try {
      connection.bind({
        portal: this.portal,
        statement: this.name,
        values: this.values,
        binary: this.binary,
        valueMapper: pgUtils.prepareValue,
      })
    } catch (err) {
      connection.close({ type: 'S', name: this.name })
      connection.sync()
      this.handleError(err as Error, connection)
      return
    }
    this._result.fields = shape.fields
    this._result._parsers = shape.parsers
    this._result._prebuiltEmptyResultObject = shape.emptyRow
    this._accumulateRows = true
    this._getRows(connection, this.rows)
  }

  override handleRowDescription(message: { fields: unknown[] }): void {
    super.handleRowDescription(message)
    if (!this.describing || this.name === undefined) return
    const { fields, _parsers, _prebuiltEmptyResultObject } = this._result
    this.shapes.set(this.name, { fields, parsers: _parsers, emptyRow: _prebuiltEmptyResultObject })
    this.describing = false
  }

  /** Described and completed without a RowDescription: the statement returns no rows (NoData). */
  override handleCommandComplete(message: unknown, connection: WireConnection): void {
    if (this.describing && this.name !== undefined) this.shapes.set(this.name, NO_ROWS)
    this.describing = false
    super.handleCommandComplete(message, connection)
  }
}
