// Builds the publishable SDK into services/sdk/dist: JavaScript with .d.ts, the generated code it
// needs included (npm consumers cannot strip TypeScript under node_modules, and @brewmesh/gen is
// not published), and a package.json of its own. Inside the workspace nothing changes: services
// and tests keep importing @brewmesh/sdk/client.ts and friends from src/.
//   pnpm --filter @brewmesh/sdk build      then: cd services/sdk/dist && npm pack
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const sdk = join(import.meta.dirname, '..')
const repo = join(sdk, '..', '..')
const staging = join(sdk, '.build')
const dist = join(sdk, 'dist')

rmSync(staging, { recursive: true, force: true })
rmSync(dist, { recursive: true, force: true })
mkdirSync(join(staging, 'src'), { recursive: true })

// The SDK's sources, with the workspace imports of generated code made relative to copies of it.
for (const file of readdirSync(join(sdk, 'src'))) {
  const source = readFileSync(join(sdk, 'src', file), 'utf8')
    .replaceAll("'@brewmesh/gen/es/", "'./es/")
    .replaceAll("'@brewmesh/gen/", "'./gen/")
  writeFileSync(join(staging, 'src', file), source)
}
cpSync(join(repo, 'gen', 'src'), join(staging, 'src', 'gen'), { recursive: true })
cpSync(join(repo, 'gen', 'es'), join(staging, 'src', 'es'), { recursive: true })

writeFileSync(
  join(staging, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      declaration: true,
      rewriteRelativeImportExtensions: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: ['node'],
      rootDir: 'src',
      outDir: dist,
    },
    include: ['src/**/*.ts'],
  }),
)
execFileSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', staging], { stdio: 'inherit' })
// protobuf-es output is already JavaScript with declarations: shipped as it is.
cpSync(join(repo, 'gen', 'es'), join(dist, 'es'), { recursive: true })
rmSync(staging, { recursive: true, force: true })

const manifest = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8')) as {
  name: string
  version: string
  description: string
  dependencies: Record<string, string>
}
const entry = (name: string) => ({ types: `./${name}.d.ts`, default: `./${name}.js` })
const { ['@brewmesh/gen']: _bundled, ...dependencies } = manifest.dependencies
writeFileSync(
  join(dist, 'package.json'),
  `${JSON.stringify(
    {
      name: manifest.name,
      version: manifest.version,
      description: manifest.description,
      license: 'Apache-2.0',
      type: 'module',
      sideEffects: false,
      exports: {
        '.': entry('index'),
        './client': entry('client'),
        './errors': entry('errors'),
        './services': entry('services'),
        './topics': entry('topics'),
        './edge': entry('edge'),
        './edge-errors': entry('edge-errors'),
        './gen/*': './gen/*',
        './es/*': './es/*',
      },
      engines: { node: '>=20' },
      dependencies,
    },
    null,
    2,
  )}\n`,
)
cpSync(join(sdk, 'README.md'), join(dist, 'README.md'))
console.log(`built ${manifest.name}@${manifest.version} into ${dist}`)
