import { describe, expect, it } from 'vitest'
import { type AppError } from '../src/errors.ts'
import { pageSize, pageTokens, positionOf } from '../src/paging.ts'

const tokens = pageTokens((raw) => {
  const at = positionOf.time(raw['at'])
  const id = positionOf.id(raw['id'])
  return at && id ? { at, id } : undefined
})
const refused = (work: () => unknown) => {
  try {
    work()
  } catch (err) {
    return (err as AppError).violations.map((v) => v.field)
  }
  throw new Error('expected INVALID_ARGUMENT')
}

describe('page tokens', () => {
  it('continue the listing they came from', () => {
    const token = tokens.encode({ at: new Date('2026-01-02T03:04:05Z'), id: 'a' }, { status: 1 })
    expect(tokens.decode(token, { status: 1 })).toEqual({ at: new Date('2026-01-02T03:04:05Z'), id: 'a' })
    expect(tokens.decode('', { status: 1 })).toBeUndefined()
  })

  it('when the filters changed, or the token was forged or damaged, then page_token is refused', () => {
    const token = tokens.encode({ at: new Date(0), id: 'a' }, { status: 1 })
    expect(refused(() => tokens.decode(token, { status: 2 }))).toEqual(['page_token'])
    expect(refused(() => tokens.decode('not base64 json!', {}))).toEqual(['page_token'])
    // A token with the right filter hash around a position of its own making.
    const { f } = JSON.parse(Buffer.from(tokens.encode({ at: new Date(0), id: 'x' }, {}), 'base64url').toString()) as { f: string }
    const forged = (p: unknown) => Buffer.from(JSON.stringify({ p, f })).toString('base64url')
    expect(refused(() => tokens.decode(forged({ at: 'yesterday', id: 'a' }), {}))).toEqual(['page_token'])
    expect(refused(() => tokens.decode(forged({ at: 8.64e16, id: 'a' }), {}))).toEqual(['page_token'])
    expect(refused(() => tokens.decode(forged({ at: 0, id: 'x'.repeat(65) }), {}))).toEqual(['page_token'])
    expect(refused(() => tokens.decode(forged(null), {}))).toEqual(['page_token'])
  })
})

describe('page size', () => {
  it('0 is the default; 1 to max as asked; anything else is refused', () => {
    expect(pageSize(0, 50, 500)).toBe(50)
    expect(pageSize(500, 50, 500)).toBe(500)
    expect(refused(() => pageSize(501, 50, 500))).toEqual(['page_size'])
    expect(refused(() => pageSize(-1, 50, 500))).toEqual(['page_size'])
  })
})
