/**
 * Builds what a service runs in production: one JavaScript file of the service's code and ours
 * (services/<service>/dist/main.mjs) and the telemetry preload (services/runtime/dist/register.mjs).
 *
 *   node scripts/bundle.ts [service ...]      (default: every service in BUNDLED_SERVICES)
 *
 * Why: Node type-strips, resolves and links every TypeScript module at each start. From its
 * sources a service loads about a hundred modules of ours and of gen/ through the type stripper; from
 * its bundle, one file (bench/README.md, service-lifecycle, eighth and ninth sessions).
 *
 * What is bundled: the service's sources, the workspace packages (@brewmesh/*) and the installed
 * packages in INLINED: plain JavaScript that nothing instruments and that reads no file of its own
 * (kysely, kafkajs, jose, BullMQ, whose Lua scripts are JavaScript strings in 6.7, and the metrics
 * side of OpenTelemetry: about 800 of the 1,100 modules a service loads). Inlining the first
 * three took 2 to 15 MiB off a service's idle resident set and 85 to 250 ms off its start to
 * SERVING, BullMQ 2 to 3 MiB more, the metrics SDK 4 to 6 MiB and about 100 ms more: idle at 141
 * to 144 MiB (ninth session, each step interleaved with the code before it). Every other installed
 * package (grpc-js, pg, iovalkey, pino, the OpenTelemetry API, tracing SDK and instrumentations
 * ...) stays files in node_modules, imported by the path it resolves to from the source that
 * imports it, so that
 * - OpenTelemetry's instrumentations still patch grpc-js, pg, iovalkey and pino when tracing is on
 *   (they hook the loading of those files),
 * - packages that read their own files at run time still find them (@grpc/reflection's protos),
 * - the preload and the service share one copy of the OpenTelemetry API, whose global registry
 *   holds the tracer provider, propagator and context manager the preload sets. The metrics SDK
 *   inlined here is the service's own (one meter provider per app, never global); with tracing on,
 *   the preload's SDK loads its own @opentelemetry/core and resources from node_modules.
 * The bundle therefore runs where it was built, next to the install it was built from (the image
 * builds it after `pnpm install`: deploy/docker/Dockerfile).
 *
 * Our one file read at run time next to the module that reads it, gen's descriptor set (server
 * reflection), is copied next to each bundle.
 *
 * Every output is written to a temporary file and renamed, so a process starting while a bundle is
 * rebuilt reads the old one or the new one, never half of one. `ensureBundled` rebuilds only when
 * a source the bundle was made of changed since (testkit runs it before starting a service).
 */
import { build, type Metafile, type Plugin } from 'esbuild'
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { basename, dirname, join, relative, sep } from 'node:path'

const REPO = join(import.meta.dirname, '..')
export const BUNDLED_SERVICES = ['customer', 'favorites', 'loyalty', 'order', 'edge'] as const

/** The files a service is started from, relative to its directory (package.json `start`). */
export const PRELOAD = '@brewmesh/runtime/telemetry/register.mjs'
export const MAIN = 'dist/main.mjs'

interface Target {
  entry: string
  outFile: string
}

const preloadTarget: Target = {
  entry: join(REPO, 'services/runtime/src/telemetry/register.ts'),
  outFile: join(REPO, 'services/runtime/dist/register.mjs'),
}

const serviceTarget = (service: string): Target => ({
  entry: join(REPO, 'services', service, 'src/main.ts'),
  outFile: join(REPO, 'services', service, MAIN),
})

/** The installed packages bundled with the sources (above: what may be, and why). */
export const INLINED = [
  'kysely',
  'kafkajs',
  'jose',
  'bullmq',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/exporter-prometheus',
  '@opentelemetry/resources',
  '@opentelemetry/core',
  '@opentelemetry/semantic-conventions',
] as const

const inlined = (specifier: string) => INLINED.some((name) => specifier === name || specifier.startsWith(`${name}/`))

/**
 * The other installed packages stay external, imported by the file esbuild resolved, relative to
 * the output.
 */
function installedPackagesAsFiles(outDir: string): Plugin {
  return {
    name: 'installed-packages-as-files',
    setup(b) {
      // Bare specifiers only: a "#..." import is the importing package's own file (package.json
      // "imports"), and only bundled code reaches this plugin, so it is bundled with its importer.
      b.onResolve({ filter: /^[^./#]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.path.startsWith('@brewmesh/') || args.path.startsWith('node:') || inlined(args.path))
          return undefined
        const found = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'resolving',
        })
        // An optional dependency an inlined package requires inside a try (BullMQ's ioredis and
        // valkey-glide, not installed): left to fail at run time, as it does from node_modules.
        if (found.errors.length > 0) return args.kind === 'require-call' ? { path: args.path, external: true } : { errors: found.errors }
        // A Node built-in named without its node: prefix
        if (found.external && !found.path.startsWith(sep)) return { path: args.path, external: true }
        const path = relative(outDir, found.path).split(sep).join('/')
        return { path: path.startsWith('.') ? path : `./${path}`, external: true }
      })
    },
  }
}

/**
 * Node's built-ins through `require`, as CommonJS gets them. Node makes an ES module's import of a
 * built-in from the module's every export, which runs its lazy getters: `import { createServer }
 * from 'node:http'` loads undici (the fetch and WebSocket classes http exports) and takes 2.8 MiB
 * of heap where `require('node:http')` takes 0.5; `node:fs` loads fs/promises, and so on
 * (bench/README.md, service-lifecycle, twelfth session). The require is the banner's.
 */
function builtinsThroughRequire(): Plugin {
  return {
    name: 'builtins-through-require',
    setup(b) {
      b.onResolve({ filter: /^[a-z0-9_:/]+$/ }, (args) =>
        args.kind === 'import-statement' && isBuiltin(args.path) ? { path: args.path, namespace: 'node-builtin' } : undefined,
      )
      b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)})`,
        loader: 'js',
      }))
    },
  }
}

const inputsFile = (target: Target) => `${target.outFile}.inputs.json`

function writeAtomically(file: string, contents: Uint8Array | string): void {
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, contents)
  renameSync(temporary, file)
}

/**
 * A module's code as ASCII. esbuild escapes what is not ASCII in code (its default charset), but
 * keeps comments as written, and a single "—" in one of them (BullMQ's, inlined) makes V8 hold
 * the whole module's source as a two-byte string: 7.3 MiB of each service's heap for a 3.7 MB
 * bundle. ASCII took 8 to 10 MiB off each service's idle resident set (bench/README.md
 * service-lifecycle). What is left is in comments only: each such UTF-16 unit becomes "?", one
 * for one, so that the source map's columns still hold.
 */
const asciiOnly = (code: string): string => code.replace(/[\u0080-\uffff]/g, '?')

/** Builds a bundle; `alsoDependsOn`: files it reads at run time, which make it stale too. */
async function bundle(target: Target, alsoDependsOn: string[] = []): Promise<void> {
  const outDir = dirname(target.outFile)
  mkdirSync(outDir, { recursive: true })
  const result = await build({
    entryPoints: { [basename(target.outFile, '.mjs')]: target.entry },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    // What is imported dynamically stays a chunk of its own, loaded only when imported: the
    // preload's tracing.ts and the OpenTelemetry SDK it imports, only when an exporter is set.
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: 'linked',
    // No keepNames: it wraps every named function, closures made per call included, in
    // Object.defineProperty(fn, 'name'), which puts each one in dictionary mode (a 256-byte
    // property table, and 350 ns to make it). An open WatchOrder stream kept about ten such
    // closures: 2.6 KiB of each of 10,000 streams (bench/README.md watch-streams). V8 names
    // functions from their declarations anyway; only what esbuild renames apart in one bundle
    // shows its new name (writeAll2, BullMQ's Worker2). Nothing compares class or function names:
    // the errors we, kafkajs, BullMQ and jose check by name declare theirs, unrenamed.
    keepNames: false,
    // The CommonJS of an inlined package (kafkajs) requires Node's built-ins; an ES module has no
    // require of its own.
    banner: {
      js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
    },
    absWorkingDir: REPO,
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [builtinsThroughRequire(), installedPackagesAsFiles(outDir)],
  })
  // Maps and chunks first: a bundle never points at a file that is not there yet.
  const last = result.outputFiles.filter((file) => file.path === target.outFile)
  for (const file of [...result.outputFiles.filter((file) => !last.includes(file)), ...last])
    writeAtomically(file.path, file.path.endsWith('.mjs') ? asciiOnly(file.text) : file.contents)
  writeAtomically(inputsFile(target), JSON.stringify([...bundledSources(result.metafile), ...alsoDependsOn]))
}

/**
 * What a bundle depends on: the workspace sources it was made of, the lockfile, which decides
 * where the installed packages it imports are, and this file, which decides how it is built.
 */
const bundledSources = (metafile: Metafile): string[] => [
  ...Object.keys(metafile.inputs).map((input) => join(REPO, input)),
  join(REPO, 'pnpm-lock.yaml'),
  join(REPO, 'scripts/bundle.ts'),
]

/** Whether the bundle is missing or older than one of the sources it was made of. */
function isStale(target: Target): boolean {
  if (!existsSync(target.outFile) || !existsSync(inputsFile(target))) return true
  const builtAt = statSync(target.outFile).mtimeMs
  const sources = JSON.parse(readFileSync(inputsFile(target), 'utf8')) as string[]
  return sources.some((source) => !existsSync(source) || statSync(source).mtimeMs > builtAt)
}

const DESCRIPTORS = join(REPO, 'gen/descriptors.binpb')

/** A service's bundle, with gen's descriptor set next to it (server reflection reads it there). */
async function bundleService(service: string): Promise<void> {
  mkdirSync(join(REPO, 'services', service, 'dist'), { recursive: true })
  writeAtomically(join(REPO, 'services', service, 'dist/descriptors.binpb'), readFileSync(DESCRIPTORS))
  await bundle(serviceTarget(service), [DESCRIPTORS])
}

/** Builds the preload and the services' bundles. */
export async function bundleServices(services: readonly string[] = BUNDLED_SERVICES): Promise<void> {
  await bundle(preloadTarget)
  for (const service of services) await bundleService(service)
}

/** Builds the telemetry preload only if a source changed since it was built; its path. */
export async function ensurePreloadBundled(): Promise<string> {
  if (isStale(preloadTarget)) await bundle(preloadTarget)
  return preloadTarget.outFile
}

/** Builds the preload and a service's bundle only if a source changed since they were built. */
export async function ensureBundled(service: string): Promise<void> {
  await ensurePreloadBundled()
  if (isStale(serviceTarget(service))) await bundleService(service)
}

if (import.meta.main) {
  const asked = process.argv.slice(2)
  const unknown = asked.filter((s) => !(BUNDLED_SERVICES as readonly string[]).includes(s))
  if (unknown.length > 0) {
    process.stderr.write(`bundle: unknown service ${unknown.join(', ')} (one of ${BUNDLED_SERVICES.join(', ')})\n`)
    process.exit(2)
  }
  await bundleServices(asked.length > 0 ? asked : BUNDLED_SERVICES)
}
