import { join } from 'node:path'

/** The repository root: benches run their tools from here. */
export const REPO = join(import.meta.dirname, '..', '..')

/** bench/ itself. */
export const BENCH_DIR = join(import.meta.dirname, '..')
