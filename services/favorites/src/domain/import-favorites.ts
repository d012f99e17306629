import { AppError, invalid, Violations, type FieldViolation } from '@brewmesh/runtime/errors'
import { FAVORITES_LIMIT, type ChangeOrigin, type DrinkInput, type Favorite } from './favorite.ts'
import { operate } from './operation.ts'
import type { FavoritesDeps } from './ports.ts'
import { checkDrink, checkText, normalizeDrink } from './validation.ts'
import { checkUuid } from '@brewmesh/runtime/ids'

export interface ImportHeader {
  customerId: string
  deviceId: string
}

export interface ImportRow {
  /** 1-based; 0 when the device did not number it. */
  rowNumber: number
  drink: DrinkInput
  /** What the contract's limits refused in this row (a NUL byte, an overlong name): reported, not imported. */
  refused?: readonly FieldViolation[]
}

export interface ImportFailure {
  rowNumber: number
  reason: string
  fields: string[]
}

export interface ImportSummary {
  received: number
  imported: number
  duplicates: number
  failed: number
  failures: ImportFailure[]
  favorites: Favorite[]
  revision: number
}

export type ImportMessage = { header: ImportHeader } | { row: ImportRow } | undefined

/**
 * Reads the stream: the header exactly once and first, then 1 to 100 rows. The whole upload is read
 * before anything is written, so no transaction is held open while a device is sending; the caller
 * is authorized for the header's customer before any row is read.
 */
export async function readImport(
  messages: AsyncIterable<ImportMessage>,
  onHeader: (header: ImportHeader) => Promise<void>,
): Promise<{ header: ImportHeader; rows: ImportRow[] }> {
  let header: ImportHeader | undefined
  const rows: ImportRow[] = []
  for await (const m of messages) {
    if (m && 'header' in m) {
      if (header || rows.length > 0) throw invalid([{ field: 'header', description: 'must come exactly once, first' }])
      const v = new Violations()
      checkUuid(v, m.header.customerId, 'header.customer_id')
      checkText(v, m.header.deviceId, 'header.device_id', { max: 128 })
      v.throwIfAny()
      header = { customerId: m.header.customerId.toLowerCase(), deviceId: m.header.deviceId }
      await onHeader(header)
    } else if (m && 'row' in m) {
      if (!header) throw invalid([{ field: 'header', description: 'must come first' }])
      if (rows.length === FAVORITES_LIMIT) throw invalid([{ field: 'row', description: `at most ${FAVORITES_LIMIT} rows per import` }])
      rows.push({ ...m.row, rowNumber: m.row.rowNumber || rows.length + 1 })
    } else {
      throw invalid([{ field: 'message', description: 'must be a header or a row' }])
    }
  }
  if (!header) throw invalid([{ field: 'header', description: 'is required' }])
  if (rows.length === 0) throw invalid([{ field: 'row', description: 'at least one row is required' }])
  return { header, rows }
}

/**
 * Adds each row like AddFavorite, in one operation (one revision): a drink the customer already
 * has, or an earlier row had, is a duplicate and skipped, so a retried upload adds nothing twice; a
 * bad row is reported and skipped. When several rows are pinned the last one wins.
 */
export async function importFavorites(
  deps: FavoritesDeps,
  origin: ChangeOrigin,
  header: ImportHeader,
  rows: ImportRow[],
): Promise<ImportSummary> {
  const failures: ImportFailure[] = []
  const added: Favorite[] = []
  let duplicates = 0
  const { result: favorites, revision } = await operate(deps, header.customerId, origin, (edit) => {
    let pin: string | undefined
    for (const row of rows) {
      const drink = normalizeDrink(row.drink)
      const v = new Violations()
      for (const refused of row.refused ?? []) v.add(refused.field, refused.description)
      if (v.list.length === 0) checkDrink(v, drink)
      if (v.list.length > 0) {
        failures.push({
          rowNumber: row.rowNumber,
          reason: v.list.map((x) => `${x.field} ${x.description}`).join('; '),
          fields: v.list.map((x) => x.field),
        })
        continue
      }
      const existing = edit.withDrink(drink.menuItemId, drink.customization)
      if (existing) {
        duplicates += 1
        if (drink.pinned) pin = existing.id
        continue
      }
      try {
        const favorite = edit.add({ ...drink, pinned: false })
        added.push(favorite)
        if (drink.pinned) pin = favorite.id
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        failures.push({ rowNumber: row.rowNumber, reason: err.message, fields: [] })
      }
    }
    if (pin) edit.pin(pin)
    // As they are after the import: the pin may have changed one.
    return added.map((f) => edit.get(f.id) ?? f)
  })
  return {
    received: rows.length,
    imported: added.length,
    duplicates,
    failed: failures.length,
    failures,
    favorites,
    revision,
  }
}
