import { createServer } from 'node:http'

/** A request that reached the receiver: its path and raw body. */
export interface Received {
  path: string
  body: Buffer
}

export interface HttpReceiver {
  /** http://127.0.0.1:<port> */
  url: string
  /** Every request so far, in order (clear it with `received.length = 0`). */
  received: Received[]
  close(): Promise<void>
}

/**
 * An HTTP endpoint of our own standing in for a telemetry backend (an OTLP/HTTP receiver, a
 * Zipkin collector): it keeps every request's path and body and answers `status`.
 */
export async function startHttpReceiver(status = 200): Promise<HttpReceiver> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: Buffer.concat(chunks) })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
