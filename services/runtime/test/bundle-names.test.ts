import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBundled, MAIN } from '../../../scripts/bundle.ts'

// The bundles are built without esbuild's keepNames (scripts/bundle.ts says why), so a class that
// esbuild renames apart from another of the same name takes the new name. These errors are told
// apart by their name (`this.name = this.constructor.name`, then `err.name == 'DelayedError'` in
// BullMQ; jose's names in our logs): a rename would break that silently, so it fails here.
const NAMED_BY_CLASS = [
  'DelayedError',
  'RateLimitError',
  'UnrecoverableError',
  'WaitingChildrenError',
  'WaitingError',
  'JOSEError',
  'JWTExpired',
  'JWTClaimValidationFailed',
  'JWSSignatureVerificationFailed',
]

let bundle: string
beforeAll(async () => {
  // The customer service inlines all of them (BullMQ for its rollups, jose for its tokens).
  await ensureBundled('customer')
  bundle = readFileSync(join(import.meta.dirname, '../../customer', MAIN), 'utf8')
}, 120_000)

describe('the service bundles', () => {
  it('keep the class names that errors are recognised by', () => {
    const declared = (name: string) => new RegExp(`\\b(var ${name} = class|class ${name}\\b)`).test(bundle)
    expect(NAMED_BY_CLASS.filter((name) => !declared(name))).toEqual([])
    expect(bundle).not.toMatch(new RegExp(`\\b(${NAMED_BY_CLASS.join('|')})\\d+ = class\\b`))
  })
})
