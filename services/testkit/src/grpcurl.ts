import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from './infra.ts'

// The real grpcurl (scripts/tools.sh puts it in .stack/bin), as developers will call the services:
// everything it knows comes from server reflection.
const GRPCURL = [join(REPO_ROOT, '.stack/bin/grpcurl'), 'grpcurl'].find((p) => p === 'grpcurl' || existsSync(p))!
const run = promisify(execFile)

/** Output of a failed grpcurl run: the status and details are in stdout and stderr. */
export interface GrpcurlFailure {
  stdout: string
  stderr: string
}

/** grpcurl against one plaintext address. */
export function grpcurlAt(address: () => string) {
  /** grpcurl -plaintext [flags] <address> [verb and symbol | method] */
  const grpcurl = async (flags: string[], ...rest: string[]) => (await run(GRPCURL, ['-plaintext', ...flags, address(), ...rest])).stdout
  /** Calls a method with a JSON request and a bearer token; resolves with the parsed response. */
  const call = async <T>(token: string, data: object, method: string): Promise<T> =>
    JSON.parse(await grpcurl(['-H', `authorization: Bearer ${token}`, '-d', JSON.stringify(data)], method)) as T
  /** The combined output of a call expected to fail. */
  const failureOf = async (run: Promise<unknown>): Promise<string> => {
    try {
      await run
    } catch (err) {
      const { stdout, stderr } = err as GrpcurlFailure
      return `${stdout}${stderr}`
    }
    throw new Error('expected grpcurl to fail, it succeeded')
  }
  return { grpcurl, call, failureOf }
}
