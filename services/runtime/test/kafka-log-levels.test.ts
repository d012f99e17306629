import { logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { levelOf } from '../src/kafka/log-levels.ts'

// What kafkajs logs on a fresh broker's first seconds (seen in scripts/up.sh's logs), and what it
// logs when something is really wrong.
describe('the level of a kafkajs log line', () => {
  it('is a warning for a transient answer kafkajs retries: no topic-partition or coordinator yet', () => {
    const metadata = { message: 'Response Metadata(key: 3, version: 6)', error: 'This server does not host this topic-partition' }
    const coordinator = { message: 'Response GroupCoordinator(key: 10, version: 2)', error: 'The group coordinator is not available' }
    expect([levelOf(logLevel.ERROR, metadata), levelOf(logLevel.ERROR, coordinator)]).toEqual(['warn', 'warn'])
  })

  it('stays an error for any other error response, and for what kafkajs reports after its retries', () => {
    expect(levelOf(logLevel.ERROR, { message: 'Response Produce(key: 0, version: 7)', error: 'The request timed out' })).toBe('error')
    expect(
      levelOf(logLevel.ERROR, { message: 'Crash: KafkaJSNumberOfRetriesExceeded', error: 'The group coordinator is not available' }),
    ).toBe('error')
    expect(levelOf(logLevel.ERROR, { message: 'Response Metadata(key: 3, version: 6)', error: undefined })).toBe('error')
  })

  it('keeps the other levels as kafkajs gave them', () => {
    expect([logLevel.WARN, logLevel.INFO, logLevel.DEBUG, logLevel.NOTHING].map((l) => levelOf(l, { message: 'x' }))).toEqual([
      'warn',
      'info',
      'debug',
      'info',
    ])
  })
})
