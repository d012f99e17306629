import type { Kysely } from 'kysely'
import { describe, expect, it } from 'vitest'
import { AppError } from '@brewmesh/runtime/errors'
import { loyaltyStore } from '../src/db/loyalty-store.ts'
import type { LoyaltyDb } from '../src/db/schema.ts'

/** A database whose every transaction fails with this error. */
const failingWith = (err: Error) =>
  loyaltyStore({ transaction: () => ({ execute: () => Promise.reject(err) }) } as unknown as Kysely<LoyaltyDb>, 'loyalty', () => {
    throw new Error('no outbox in this test')
  })
const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code })

describe('the store transaction', () => {
  it.each(['40001', '40P01'])(
    'turns PostgreSQL %s (a concurrent write won) into ABORTED with reason CONCURRENT_MODIFICATION',
    async (code) => {
      const err = await failingWith(pgError(code))
        .transaction(() => Promise.resolve())
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(AppError)
      expect(err).toMatchObject({ kind: 'aborted', reason: 'CONCURRENT_MODIFICATION' })
    },
  )

  it('lets any other failure through unchanged', async () => {
    const other = pgError('23505')
    await expect(failingWith(other).transaction(() => Promise.resolve())).rejects.toBe(other)
  })
})
