import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensurePreloadBundled } from '../../../scripts/bundle.ts'

// The preload as services start with it (its bundle, scripts/bundle.ts): without a trace exporter
// it loads no OpenTelemetry SDK (tracing is a chunk of its own, imported only when configured).
// A module hook registered first lists every module the preload loads.
const LIST_MODULES = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; registerHooks({ resolve(s, c, next) { const r = next(s, c); process.stderr.write('loaded ' + r.url + '\\n'); return r } })",
)}`

let preload: string
beforeAll(async () => {
  preload = await ensurePreloadBundled()
}, 60_000)

function modulesLoaded(env: Record<string, string>): string[] {
  const run = spawnSync(process.execPath, ['--import', LIST_MODULES, '--import', pathToFileURL(preload).href, '-e', ''], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
  })
  expect(run.status, run.stderr).toBe(0)
  return run.stderr.split('\n').filter((line) => line.startsWith('loaded '))
}

describe('the bundled telemetry preload', () => {
  it('when no trace exporter is configured, then no OpenTelemetry SDK module is loaded', () => {
    const loaded = modulesLoaded({})
    expect(loaded.some((m) => m.includes('register.mjs'))).toBe(true)
    expect(loaded.filter((m) => m.includes('@opentelemetry/sdk-'))).toEqual([])
  })

  it('when spans go to Zipkin, then the SDK and its Zipkin exporter are loaded', () => {
    const loaded = modulesLoaded({ OTEL_TRACES_EXPORTER: 'zipkin' })
    expect(loaded.some((m) => m.includes('@opentelemetry/sdk-node'))).toBe(true)
    expect(loaded.some((m) => m.includes('@opentelemetry/exporter-zipkin'))).toBe(true)
  })
})
