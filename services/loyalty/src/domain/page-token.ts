import { createHash } from 'node:crypto'
import { invalid } from '@brewmesh/runtime/errors'

/** Opaque page tokens: a position plus a hash of the filters, so a token cannot change filters. */
export function encodeToken(position: Record<string, string | number>, filters: unknown): string {
  return Buffer.from(JSON.stringify({ ...position, f: filterHash(filters) })).toString('base64url')
}

export function decodeToken(token: string, filters: unknown): Record<string, string | number> | undefined {
  if (!token) return undefined
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, string | number>
    if (parsed['f'] === filterHash(filters)) return parsed
  } catch {
    // falls through to the error below
  }
  throw invalid([{ field: 'page_token', description: 'is not a token from a previous page of this listing (same filters)' }])
}

const filterHash = (filters: unknown) => createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16)

/** A page size from a request: 0 means the default, otherwise 1 to max. */
export function pageSize(raw: number, fallback: number, max: number): number {
  if (raw === 0) return fallback
  if (!Number.isInteger(raw) || raw < 1 || raw > max) throw invalid([{ field: 'page_size', description: `must be 0 to ${max}` }])
  return raw
}
