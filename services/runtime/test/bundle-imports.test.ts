import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { BUNDLED_SERVICES, ensureBundled, MAIN } from '../../../scripts/bundle.ts'

// An ES module's import of a Node built-in makes Node build the module's namespace from its every
// export, running its lazy getters: node:http's loads undici, 2.3 MiB of each service's heap
// (scripts/bundle.ts, builtinsThroughRequire). The bundles get built-ins through require instead.
const builtinImport = /^import\b[^;]*\bfrom\s*["'](node:)?[a-z0-9_/]+["'];?$/gm

const bundles: Record<string, string> = {}
beforeAll(async () => {
  for (const service of BUNDLED_SERVICES) {
    await ensureBundled(service)
    bundles[service] = readFileSync(join(import.meta.dirname, '../../', service, MAIN), 'utf8')
  }
}, 240_000)

describe('the service bundles', () => {
  it("import no Node built-in as an ES module (the banner's require brings them)", () => {
    const imports = Object.entries(bundles).flatMap(([service, code]) =>
      (code.match(builtinImport) ?? []).map((line) => `${service}: ${line}`),
    )
    expect(imports).toEqual([])
  })
})
