import { describe, expect, it } from 'vitest'
import { FanOut } from '../src/streams/fan-out.ts'

describe('FanOut and the feeds behind it', () => {
  it('is live at once when no feed pauses behind it', async () => {
    const fan = new FanOut<number>()
    await expect(fan.live()).resolves.toBeUndefined()
  })

  it('wakes every feed behind it when a listener subscribes, and is live once all of them are', async () => {
    const fan = new FanOut<number>()
    const woken: string[] = []
    const release: (() => void)[] = []
    for (const name of ['a', 'b'])
      fan.feedBy(() => {
        woken.push(name)
        return new Promise<void>((resolve) => release.push(resolve))
      })
    fan.subscribe('k', () => undefined)
    expect(woken).toEqual(['a', 'b'])

    let live = false
    const waiting = fan.live().then(() => (live = true))
    release[2]!() // live() asked both feeds again; only a answered
    await Promise.resolve()
    expect(live).toBe(false)
    for (const r of release) r()
    await waiting
    expect(live).toBe(true)
  })

  it('forgets a feed that stopped', async () => {
    const fan = new FanOut<number>()
    let woken = 0
    const forget = fan.feedBy(async () => void woken++)
    fan.subscribe('k', () => undefined)
    forget()
    fan.subscribe('k', () => undefined)
    await fan.live()
    expect(woken).toBe(1)
  })
})
