/**
 * Turns a function of many keys into a function of one: calls made while a batch is running wait
 * and go together in the next batch, so N concurrent callers cost about one batch, and a lone
 * call waits for nothing but the current turn of the event loop. A key asked for during a batch
 * waits for the next one, so its answer reflects everything committed before it asked.
 */
export function coalesce<K, V>(batch: (keys: K[]) => Promise<V[]>): (key: K) => Promise<V> {
  type Waiter = { resolve: (value: V) => void; reject: (err: unknown) => void }
  let waiting = new Map<K, Waiter[]>()
  let draining = false

  const drain = async () => {
    while (waiting.size > 0) {
      const taken = waiting
      waiting = new Map()
      const keys = [...taken.keys()]
      try {
        const values = await batch(keys)
        keys.forEach((key, i) => {
          for (const w of taken.get(key) ?? []) w.resolve(values[i]!)
        })
      } catch (err) {
        for (const waiters of taken.values()) for (const w of waiters) w.reject(err)
      }
    }
    draining = false
  }

  return (key) =>
    new Promise<V>((resolve, reject) => {
      const waiters = waiting.get(key)
      if (waiters) waiters.push({ resolve, reject })
      else waiting.set(key, [{ resolve, reject }])
      if (draining) return
      draining = true
      // Callers woken by the same I/O (jobs fetched together) join the first batch too.
      setImmediate(() => void drain())
    })
}
