import { monitorEventLoopDelay, PerformanceObserver, performance, type EventLoopUtilization } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import type { Meter } from '@opentelemetry/api'

/** Node's own kinds of garbage collection (perf_hooks NODE_PERFORMANCE_GC_*), as labels. */
const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' }

/**
 * Metrics of the Node process itself, for the questions "is this replica's event loop keeping
 * up?" and "is it running out of heap?":
 *   nodejs_eventloop_delay_seconds{stat="p50|p99|max"}  how late timers fired since the last scrape
 *   nodejs_eventloop_utilization                         share of the time the loop was busy since the last scrape
 *   nodejs_heap_bytes{state="used|total|limit"}          V8 heap, and the size at which V8 gives up
 *   process_resident_memory_bytes                        what the container's memory limit counts
 *   nodejs_gc_duration_seconds{kind}                     time spent in each kind of collection
 * The delay and utilization windows restart at every collection, so each scrape reports the
 * interval since the previous one (a peak is not averaged away over the process's life).
 * Returns the function that stops the sampling.
 */
export function runtimeMetrics(meter: Meter): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  let lastUtilization: EventLoopUtilization = performance.eventLoopUtilization()

  meter
    .createObservableGauge('nodejs_eventloop_delay_seconds', { description: 'event-loop delay since the last collection', unit: 's' })
    .addCallback((result) => {
      // The histogram is in nanoseconds; an idle window has no samples (count 0) and reports nothing.
      if (delay.count > 0) {
        result.observe(delay.percentile(50) / 1e9, { stat: 'p50' })
        result.observe(delay.percentile(99) / 1e9, { stat: 'p99' })
        result.observe(delay.max / 1e9, { stat: 'max' })
      }
      delay.reset()
    })
  meter
    .createObservableGauge('nodejs_eventloop_utilization', {
      description: 'share of time the event loop was busy since the last collection',
    })
    .addCallback((result) => {
      const now = performance.eventLoopUtilization()
      result.observe(performance.eventLoopUtilization(now, lastUtilization).utilization)
      lastUtilization = now
    })
  meter.createObservableGauge('nodejs_heap_bytes', { description: 'V8 heap by state', unit: 'By' }).addCallback((result) => {
    const heap = getHeapStatistics()
    result.observe(heap.used_heap_size, { state: 'used' })
    result.observe(heap.total_heap_size, { state: 'total' })
    result.observe(heap.heap_size_limit, { state: 'limit' })
  })
  meter
    .createObservableGauge('process_resident_memory_bytes', { description: 'resident set size of the process', unit: 'By' })
    .addCallback((result) => result.observe(process.memoryUsage.rss()))

  const gc = meter.createHistogram('nodejs_gc_duration_seconds', {
    description: 'garbage collection pauses by kind',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] },
  })
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // Node puts the kind in `detail` (NodeGCPerformanceDetail); the DOM typing of PerformanceEntry lacks it.
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind
      gc.record(entry.duration / 1000, { kind: GC_KINDS[kind ?? 0] ?? 'other' })
    }
  })
  observer.observe({ entryTypes: ['gc'] })

  return () => {
    observer.disconnect()
    delay.disable()
  }
}
