// The BullMQ area of runtime: job data that carries the trace of whoever queued it.
export { keepScheduled, traced } from '../jobs.ts'
// For tools and tests that run a queue outside a declared service.
export { createQueue, createWorker } from '../jobs.ts'
