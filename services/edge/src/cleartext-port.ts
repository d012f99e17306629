import type { Server as Http1Server } from 'node:http'
import type { Http2Server } from 'node:http2'
import { createServer, type Server, type Socket } from 'node:net'

// Every HTTP/2 connection without TLS (h2c, "prior knowledge") opens with this preface.
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

/**
 * One plaintext TCP port for both HTTP/1.1 and HTTP/2. Node's `allowHTTP1` works only with TLS
 * (the protocol is picked by ALPN); inside a cluster the edge runs behind a TLS-terminating
 * Ingress and speaks cleartext, where curl and browsers' fetch use HTTP/1.1 and gRPC clients
 * HTTP/2. The first bytes of a connection tell which: the HTTP/2 preface, or an HTTP/1.1 request
 * line. The bytes are put back and the socket handed to the matching Node server.
 */
export function cleartextPort(http1: Http1Server, http2: Http2Server): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.once('readable', () => {
      const first = socket.read() as Buffer | null
      if (!first) return
      socket.unshift(first)
      const length = Math.min(first.length, H2_PREFACE.length)
      const speaksHttp2 = first.subarray(0, length).equals(H2_PREFACE.subarray(0, length))
      ;(speaksHttp2 ? http2 : http1).emit('connection', socket)
    })
  })
  return { server, sockets }
}
