import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { freePort } from '../src/infra.ts'

// freePort answers ports outside the range the kernel takes source ports of outgoing connections
// from, so a port handed to a server that binds it later cannot be taken by a connection meanwhile.
const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])

describe('freePort', () => {
  it('when asked for ports, then each is below the ephemeral range, different from the others, and free to listen on', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()))

    expect(new Set(ports).size).toBe(20)
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000)
      expect(port).toBeLessThan(ephemeralLow)
    }
    const server = createServer()
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(ports[0], '127.0.0.1', resolve))
    await new Promise((resolve) => server.close(resolve))
  })
})
