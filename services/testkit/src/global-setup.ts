import type { TestProject } from 'vitest/node'
import { provisionInfra, type Infra } from './infra.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    infra: Infra
  }
}

/** vitest globalSetup: provisions the servers once per run and hands their settings to every test file. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { infra, stop } = await provisionInfra()
  project.provide('infra', infra)
  return stop
}
