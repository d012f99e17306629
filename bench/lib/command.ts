import { spawn } from 'node:child_process'
import { REPO } from './repo.ts'

/** Quotes one argument for a POSIX shell, so saved command lines can be pasted as they are. */
export const shellQuote = (arg: string) => (/^[\w./:=@,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)

/** The command line that repeats this run: the BENCH_* variables that were set, then the script. */
export function reproduceCommand(script: string, settingVars: string[], nodeFlags: string[] = []): string {
  const vars = settingVars.filter((k) => process.env[k] !== undefined).map((k) => shellQuote(`${k}=${process.env[k]}`))
  return ['cd', REPO, '&&', ...vars, ['pnpm exec node', ...nodeFlags, script].join(' ')].join(' ')
}

/** Runs a command from the repository root with its output on our stderr; rejects unless it exits 0. */
export function runInherited(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: REPO, stdio: ['ignore', process.stderr, process.stderr] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited with ${code}`))))
  })
}
