import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tokenFile } from '../src/auth/outbound.ts'

describe('a service token kept in a file', () => {
  it('is read once, then re-read only when the file changed and the check interval passed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'token-')), 'token')
    const rotate = (token: string, at: number) => {
      writeFileSync(path, `${token}\n`)
      utimesSync(path, at, at)
    }
    let now = 1_000_000
    rotate('first', 1000)
    const source = tokenFile(path, 1000, () => now)
    expect(await source.token()).toBe('first')

    rotate('second', 2000)
    now += 999
    expect(await source.token()).toBe('first') // not looked at again within the interval
    now += 1
    expect(await source.token()).toBe('second')
  })
})
