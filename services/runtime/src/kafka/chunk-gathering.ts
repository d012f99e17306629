interface Gathering<I> {
  items: I[]
  waiters: { resolve: () => void; reject: (err: unknown) => void }[]
}

/**
 * Chunks of one topic handed over in the same turn of the event loop, applied as one. kafkajs
 * hands the partitions of one fetch to eachBatch at the same time; under load each holds a message
 * or two, and each used to be a transaction of its own (and with six partitions, six per fetch).
 * Gathered, the partitions of a fetch make one. Every caller waits for the apply that holds its
 * items, so a partition's next chunk never starts before its last one is applied: each partition
 * stays in offset order. A gathering never grows past `maxItems`; beyond, it is applied as it is
 * and the next one starts.
 */
export function chunkGathering<I>(apply: (items: I[]) => Promise<void>, maxItems: number): (topic: string, items: I[]) => Promise<void> {
  const open = new Map<string, Gathering<I>>()
  const flush = (topic: string, gathering: Gathering<I>) => {
    if (open.get(topic) === gathering) open.delete(topic)
    apply(gathering.items).then(
      () => gathering.waiters.forEach((w) => w.resolve()),
      (err: unknown) => gathering.waiters.forEach((w) => w.reject(err)),
    )
  }
  return (topic, items) => {
    if (items.length === 0) return Promise.resolve()
    let gathering = open.get(topic)
    if (gathering && gathering.items.length + items.length > maxItems) {
      flush(topic, gathering)
      gathering = undefined
    }
    if (!gathering) {
      const started: Gathering<I> = { items: [], waiters: [] }
      open.set(topic, started)
      setImmediate(() => open.get(topic) === started && flush(topic, started))
      gathering = started
    }
    gathering.items.push(...items)
    const joined = gathering
    return new Promise((resolve, reject) => joined.waiters.push({ resolve, reject }))
  }
}
