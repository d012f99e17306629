import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BENCH_DIR } from './repo.ts'

/** Where a result file goes: bench/results/ (git-ignored). */
export const resultsPath = (fileName: string) => join(BENCH_DIR, 'results', fileName)

/** Writes a run's full record as pretty JSON under bench/results/ and returns the path. */
export function saveResults(fileName: string, record: unknown): string {
  const path = resultsPath(fileName)
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true })
  writeFileSync(path, JSON.stringify(record, null, 2) + '\n')
  return path
}

/** `<name>-<yyyy-mm-dd>.json` for a run that started at `startedAt`. */
export const datedFileName = (name: string, startedAt: Date) => `${name}-${startedAt.toISOString().slice(0, 10)}.json`
