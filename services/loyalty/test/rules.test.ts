import { describe, expect, it } from 'vitest'
import { canAfford, newlyAffordable, nextTier, pointsExpireAt, pointsForAmount, tierFor } from '../src/domain/rules.ts'
import { account, reward, RULES } from './domain-fixtures.ts'

describe('tiers', () => {
  it('are Bronze below the Silver threshold, Silver from it, Gold from the Gold threshold', () => {
    expect(tierFor(RULES, 0)).toBe('bronze')
    expect(tierFor(RULES, 499)).toBe('bronze')
    expect(tierFor(RULES, 500)).toBe('silver')
    expect(tierFor(RULES, 1999)).toBe('silver')
    expect(tierFor(RULES, 2000)).toBe('gold')
  })

  it('name the next tier and the points still missing, and nothing at Gold', () => {
    expect(nextTier(RULES, 120)).toEqual({ tier: 'silver', pointsNeeded: 380 })
    expect(nextTier(RULES, 500)).toEqual({ tier: 'gold', pointsNeeded: 1500 })
    expect(nextTier(RULES, 5000)).toBeUndefined()
  })
})

describe('earning', () => {
  it('gives points per whole currency unit times the tier multiplier, rounded down', () => {
    expect(pointsForAmount(RULES, 450, 'bronze')).toBe(45)
    expect(pointsForAmount(RULES, 450, 'silver')).toBe(56) // 56.25
    expect(pointsForAmount(RULES, 450, 'gold')).toBe(67) // 67.5
    expect(pointsForAmount(RULES, 9, 'bronze')).toBe(0)
    expect(pointsForAmount(RULES, -500, 'gold')).toBe(0)
  })
})

describe('expiry date', () => {
  it('is the last activity plus the inactivity period, and none for an empty balance', () => {
    const lastActivityAt = new Date('2026-03-01T10:00:00Z')
    expect(pointsExpireAt(RULES, account({ balance: 10, lastActivityAt }))?.toISOString()).toBe('2027-03-01T10:00:00.000Z')
    expect(pointsExpireAt(RULES, account({ balance: 0, lastActivityAt }))).toBeNull()
  })
})

describe('affordability', () => {
  it('needs an open account, an active reward, the points and the tier', () => {
    expect(canAfford(RULES, account({ balance: 100 }), reward())).toBe(true)
    expect(canAfford(RULES, account({ balance: 99 }), reward())).toBe(false)
    expect(canAfford(RULES, account({ balance: 100, status: 'closed' }), reward())).toBe(false)
    expect(canAfford(RULES, account({ balance: 100 }), reward({ active: false }))).toBe(false)
    expect(canAfford(RULES, account({ balance: 100, lifetime: 600 }), reward({ minTier: 'gold' }))).toBe(false)
    expect(canAfford(RULES, account({ balance: 100, lifetime: 2000 }), reward({ minTier: 'gold' }))).toBe(true)
  })

  it('reports only rewards crossed by the change, cheapest first', () => {
    const catalog = [
      reward({ id: 'big', costPoints: 300 }),
      reward({ id: 'small', costPoints: 100 }),
      reward({ id: 'mid', costPoints: 200 }),
    ]
    const crossed = newlyAffordable(RULES, account({ balance: 150 }), account({ balance: 320 }), catalog)
    expect(crossed.map((r) => r.id)).toEqual(['mid', 'big'])
    expect(newlyAffordable(RULES, account({ balance: 320 }), account({ balance: 100 }), catalog)).toEqual([])
  })
})
