import { rmSync } from 'node:fs'
import { createInterface } from 'node:readline'

// The reaper's own process (started by reaper.ts, in a session of its own). Its parent tells it on
// stdin what to clean up: `pid <n>` / `unpid <n>` and `dir <path>` / `undir <path>`. When stdin
// closes, the parent has gone (ended, crashed or been killed): whatever is still registered is
// killed and deleted, so a test that never reached its afterAll leaves no servers behind.
const pids = new Set<number>()
const dirs = new Set<string>()
const lines = createInterface({ input: process.stdin })

lines.on('line', (line) => {
  const space = line.indexOf(' ')
  const [verb, arg] = [line.slice(0, space), line.slice(space + 1)]
  if (verb === 'pid') pids.add(Number(arg))
  else if (verb === 'unpid') pids.delete(Number(arg))
  else if (verb === 'dir') dirs.add(arg)
  else if (verb === 'undir') dirs.delete(arg)
})

lines.on('close', () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  // A killed server may still be closing its files for a moment.
  setTimeout(
    () => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
      process.exit(0)
    },
    pids.size > 0 ? 500 : 0,
  )
})
