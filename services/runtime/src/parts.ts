import type { Queue, Worker } from 'bullmq'
import type { RunningConsumer } from './kafka/consumer.ts'
import { keepTrying, sleep, type Stoppable } from './lifecycle.ts'
import type { Logger } from './logger.ts'

/** Building blocks of the composition root (app.ts) that start in the background or close conditionally. */

/**
 * A consumer started in the background (retrying until Kafka answers), stopped with the app.
 * Stopping ends the retries first (also when `signal`, the app's, is aborted), so no attempt
 * starts a consumer after its part was stopped.
 */
export function backgroundConsumer(name: string, start: () => Promise<RunningConsumer>, signal: AbortSignal, log: Logger) {
  const retries = new AbortController()
  signal.addEventListener('abort', () => retries.abort(), { once: true })
  let running: RunningConsumer | undefined
  let markReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  const starting = keepTrying(
    name,
    async () => {
      running = await start()
      void running.ready.then(markReady)
    },
    retries.signal,
    log,
  )
  const part: Stoppable = {
    name,
    stop: async () => {
      retries.abort()
      // A start in progress gets a moment to finish, so its consumer is stopped too.
      await Promise.race([starting, sleep(2000)])
      await running?.stop()
    },
  }
  return { ready, part }
}

/** A BullMQ queue and worker pair; closing waits for Valkey only while it is up. */
export function jobPart<T>(queue: Queue<T>, worker: Worker<T>, up: () => boolean, background?: AbortController): Stoppable[] {
  return [
    {
      name: `${queue.name} queue`,
      stop: async () => {
        background?.abort()
        if (up()) await queue.close()
      },
    },
    { name: `${queue.name} worker`, stop: async () => void (up() ? await worker.close() : worker.close(true).catch(() => undefined)) },
  ]
}
