import { readFile } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import { extname, join, normalize } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
}

/**
 * The family web page under `/app/`: a few static files from one directory, read per request
 * (the page is a proof of the browser path, not a site to cache). Paths never leave the directory.
 */
export function staticFiles(root: string, prefix = '/app/') {
  return async (path: string, res: ServerResponse | Http2ServerResponse): Promise<void> => {
    const relative = normalize(decodeURIComponent(path.slice(prefix.length)) || 'index.html')
    if (relative.startsWith('..') || relative.includes('\0')) return answer(res, 404, 'not found\n')
    const file = join(root, relative)
    try {
      const body = await readFile(file)
      answer(res, 200, body, TYPES[extname(file)] ?? 'application/octet-stream', { 'cache-control': 'no-cache' })
    } catch {
      answer(res, 404, `not found: ${relative} (build the page with: pnpm --filter @brewmesh/edge build:web)\n`)
    }
  }
}

/** Writes a whole response, over HTTP/1.1 or HTTP/2 alike. */
export function answer(
  res: ServerResponse | Http2ServerResponse,
  status: number,
  body: string | Buffer,
  type = 'text/plain; charset=utf-8',
  headers: Record<string, string> = {},
) {
  // Both response types have this writeHead overload; TypeScript cannot call a union of overloads.
  ;(res as ServerResponse).writeHead(status, { ...headers, 'content-type': type })
  res.end(body)
}
