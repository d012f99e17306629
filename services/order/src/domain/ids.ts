import { createHash } from 'node:crypto'

/**
 * A name-based UUID (version 5 layout over SHA-1): the same name always gives the same id. An
 * order's id, its line ids and its redemption keys come from its idempotency key, so a retried
 * PlaceOrder reserves against the same order with the same cart and the Loyalty service sees one
 * request, not two.
 */
export function nameUuid(...parts: string[]): string {
  const h = createHash('sha1')
    .update(`brewmesh:${parts.join(':')}`)
    .digest()
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80
  const hex = h.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
