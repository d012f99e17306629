import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '@brewmesh/testkit/env.ts'
import { startPrivateValkey, type PrivateValkey } from '@brewmesh/testkit/private-valkey.ts'
import { createQueue, keepScheduled } from '../src/jobs.ts'
import { createLogger } from '../src/logger.ts'
import { closeValkey, createValkey, type Valkey } from '../src/valkey.ts'

// A Valkey restarted without persistence comes back empty: the job schedulers a service upserted
// at start are gone. keepScheduled puts them back when the connection is ready again. A Valkey of
// the test's own, since it is stopped.
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
let valkey: PrivateValkey
let connection: Valkey
const stopping = new AbortController()

beforeAll(async () => {
  valkey = await startPrivateValkey()
  connection = createValkey({ host: valkey.host, port: valkey.port, keyPrefix: 'test' }, log, 'jobs')
}, 60_000)

afterAll(async () => {
  stopping.abort()
  await closeValkey(connection)
  await valkey?.close()
})

describe('job schedulers', () => {
  it('when Valkey restarts empty, then keepScheduled upserts the schedulers again', async () => {
    const queue = createQueue('hold', connection, 'test', log)
    const scheduled = async () => (await queue.getJobSchedulers()).map((s) => s.key)
    keepScheduled(
      connection,
      'hold schedulers',
      () => queue.upsertJobScheduler('every-minute', { pattern: '* * * * *' }, { name: 'release' }).then(() => undefined),
      stopping.signal,
      log,
    )
    await eventually(async () => expect(await scheduled()).toEqual(['every-minute']))

    await valkey.stop()
    await valkey.start()
    await eventually(async () => expect(await scheduled()).toEqual(['every-minute']), { timeoutMs: 20_000 })
    await queue.close()
  }, 60_000)
})
