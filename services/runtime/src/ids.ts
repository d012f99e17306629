import { Violations } from './errors.ts'

// RFC 9562 UUIDs, versions 1 to 8, any case. brewmesh stores and compares them lower-cased.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

export const isUuid = (value: string): boolean => UUID.test(value)

/** Adds a violation unless `value` is a UUID ("is required" when empty). */
export function checkUuid(v: Violations, value: string, field: string): void {
  v.check(isUuid(value), field, value ? 'must be a UUID' : 'is required')
}

/** The UUID in its stored form (lower case), or INVALID_ARGUMENT naming `field`. */
export function uuidOf(value: string, field: string): string {
  const v = new Violations()
  checkUuid(v, value, field)
  v.throwIfAny()
  return value.toLowerCase()
}
