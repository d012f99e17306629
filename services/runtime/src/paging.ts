import { createHash } from 'node:crypto'
import { invalid } from './errors.ts'

/**
 * Opaque page tokens for keyset pagination: a position plus a hash of the listing's filters, so a
 * token only continues the listing it came from. The position is checked by `read` when it comes
 * back: a forged or damaged token is INVALID_ARGUMENT (page_token), never a query on garbage.
 */
export interface PageTokens<P> {
  encode(position: P, filters: unknown): string
  /** undefined for an empty token (the first page). */
  decode(token: string, filters: unknown): P | undefined
}

const MISMATCH = { field: 'page_token', description: 'is not a token from a previous page of this listing (same filters)' }
const filterHash = (filters: unknown) => createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16)

export function pageTokens<P extends Record<string, unknown>>(read: (raw: Record<string, unknown>) => P | undefined): PageTokens<P> {
  return {
    encode: (position, filters) => Buffer.from(JSON.stringify({ p: position, f: filterHash(filters) })).toString('base64url'),
    decode(token, filters) {
      if (!token) return undefined
      let parsed: unknown
      try {
        parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
      } catch {
        throw invalid([MISMATCH])
      }
      const { p, f } = (parsed ?? {}) as { p?: unknown; f?: unknown }
      const position = f === filterHash(filters) && p && typeof p === 'object' ? read(p as Record<string, unknown>) : undefined
      if (!position) throw invalid([MISMATCH])
      return position
    },
  }
}

/** Readers for token positions: a time in range, an id of at most 64 characters, an integer. */
export const positionOf = {
  time(value: unknown): Date | undefined {
    if (typeof value !== 'string' && typeof value !== 'number') return undefined
    const t = new Date(value)
    return Number.isFinite(t.getTime()) && t.getTime() >= 0 && t.getUTCFullYear() <= 9999 ? t : undefined
  },
  id(value: unknown): string | undefined {
    return typeof value === 'string' && value.length > 0 && value.length <= 64 && !value.includes('\0') ? value : undefined
  },
  integer(value: unknown, max = Number.MAX_SAFE_INTEGER): number | undefined {
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max ? value : undefined
  },
}

/** A page size from a request: 0 means the default, otherwise 1 to max (INVALID_ARGUMENT beyond). */
export function pageSize(raw: number, fallback: number, max: number): number {
  if (raw === 0) return fallback
  if (!Number.isInteger(raw) || raw < 1 || raw > max) throw invalid([{ field: 'page_size', description: `must be 0 to ${max}` }])
  return raw
}
