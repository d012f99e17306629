import { logLevel } from 'kafkajs'

type Level = 'error' | 'warn' | 'info' | 'debug'

const LEVELS: Record<number, Level> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
}

/**
 * Protocol errors that say a topic, a partition's leader or a group's coordinator is not there
 * yet: the broker is starting, a topic was just created, leadership or a group is moving. kafkajs
 * retries them itself (its errors table marks them retriable) and reports at error level only
 * what still fails after its retries.
 */
const TRANSIENT = new Set([
  'This server does not host this topic-partition',
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'This server is not the leader for that topic-partition',
  "The coordinator is loading and hence can't process requests for this group",
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
])

/**
 * The level a kafkajs log line is written at. kafkajs logs every error response of the broker at
 * error level ("Response Metadata(key: 3, version: 6)") before deciding to retry it; one of the
 * transient answers above is a warning, so that a fresh broker's first seconds do not read as
 * errors in the services' logs.
 */
export function levelOf(level: number, entry: { message: string; error?: unknown }): Level {
  const named = LEVELS[level] ?? 'info'
  if (named === 'error' && entry.message.startsWith('Response ') && typeof entry.error === 'string' && TRANSIENT.has(entry.error)) {
    return 'warn'
  }
  return named
}
