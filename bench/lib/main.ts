import { note } from './log.ts'

/**
 * Runs a bench's main: exit code 1 when it throws, otherwise a normal exit once everything is
 * stopped (and a forced one, with a note, if some handle still holds the event loop 10 s later).
 */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main()
    setTimeout(() => {
      note('something still holds the event loop after everything was stopped; exiting')
      process.exit(0)
    }, 10_000).unref()
  } catch (err) {
    note(`failed: ${(err as Error).stack ?? String(err)}`)
    process.exit(1)
  }
}
