// Live streams: what one replica consumed, fanned out to the streams open on it.
export { AsyncQueue, QueueOverflow } from './async-queue.ts'
export { FanOut } from './fan-out.ts'
