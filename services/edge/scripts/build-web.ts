// Builds the family web page into services/edge/web/dist (served by the edge under /app/):
// web/src/app.ts and the SDK's browser client bundled into one ES module by esbuild, and
// index.html copied. Type-check it with: tsc -p services/edge/web
//   pnpm --filter @brewmesh/edge build:web
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'

const web = join(import.meta.dirname, '..', 'web')
const dist = join(web, 'dist')
mkdirSync(dist, { recursive: true })
await build({
  entryPoints: [join(web, 'src', 'app.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
})
copyFileSync(join(web, 'index.html'), join(dist, 'index.html'))
console.log(`built the web page into ${dist}`)
