import { Redis as Valkey } from 'iovalkey'
import type { ValkeyConfig } from './config.ts'
import type { Logger } from './logger.ts'

export type { Valkey }

/**
 * A Valkey connection. `commands` fails fast while the server is down (no offline queue),
 * so callers can bypass the cache; `jobs` waits and retries forever, as BullMQ requires.
 */
export function createValkey(config: ValkeyConfig, log: Logger, purpose: 'commands' | 'jobs' | 'subscriber'): Valkey {
  const failFast = purpose === 'commands'
  const client = new Valkey({
    host: config.host,
    port: config.port,
    lazyConnect: false,
    connectionName: `brewmesh-${purpose}`,
    enableOfflineQueue: !failFast,
    // Concurrent requests' commands share one write and one round trip (cache reads under load).
    enableAutoPipelining: failFast,
    maxRetriesPerRequest: failFast ? 0 : null,
    ...(failFast ? { commandTimeout: 500 } : {}),
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  })
  let down = false
  client.on('error', (err: Error) => {
    if (!down) log.warn({ err: err.message, purpose }, 'valkey connection error')
    down = true
  })
  client.on('ready', () => {
    if (down) log.info({ purpose }, 'valkey reconnected')
    down = false
  })
  return client
}

/** Closes a connection without waiting for a server that may be gone. */
export async function closeValkey(client: Valkey): Promise<void> {
  if (client.status !== 'ready') return client.disconnect()
  try {
    await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, 500))])
  } finally {
    client.disconnect()
  }
}
