import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleartextPort } from '../src/cleartext-port.ts'

const answer = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
  let bytes = 0
  req.on('data', (chunk: Buffer) => (bytes += chunk.length))
  req.on('end', () => res.end(`HTTP/${req.httpVersion} ${bytes}`))
}
const { server } = cleartextPort(createHttp1Server(answer), createHttp2Server(answer))
let url: string
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise((resolve) => server.close(resolve)))

describe('one cleartext port for HTTP/1.1 and HTTP/2', () => {
  it('serves HTTP/1.1 requests (curl, fetch) with their bodies intact', async () => {
    const res = await fetch(url, { method: 'POST', body: 'x'.repeat(100_000) })
    expect(await res.text()).toBe('HTTP/1.1 100000')
  })

  it('serves HTTP/2 with prior knowledge (gRPC clients) on the same port', async () => {
    const session = connect(url)
    const body = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/' })
      let text = ''
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()))
      stream.on('end', () => resolve(text))
      stream.on('error', reject)
      stream.end('y'.repeat(200_000))
    })
    session.close()
    expect(body).toBe('HTTP/2.0 200000')
  })
})
