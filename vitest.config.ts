import { defineConfig } from 'vitest/config'

// Projects: `unit` (pure domain rules, no I/O); `integration` (real PostgreSQL, Valkey and Kafka,
// provisioned once by the testkit's global setup); `traced` (span assertions, with tracing set up
// before any module loads), after it; `fuzz` (the mesh as four processes under fuzzed requests,
// services/testkit/src/fuzz), alone so its deadlines measure the services rather than the load of
// other tests; `disruptive`, outage drills that stop the shared Kafka broker, alone after that; and
// `faults`, the mesh under load through crashes and outages of its own private Kafka and Valkey,
// alone at the end (it keeps both cores busy). Projects with different worker limits need their own
// groupOrder.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['services/*/test/**/*.test.ts', 'deploy/tools/*/test/**/*.test.ts'],
          exclude: [
            '**/*.int.test.ts',
            '**/*.disrupt.test.ts',
            '**/*.traced.test.ts',
            '**/*.fuzz.test.ts',
            '**/*.fault.test.ts',
            '**/node_modules/**',
          ],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['services/*/test/**/*.int.test.ts'],
          globalSetup: ['services/testkit/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          // Span assertions: tracing with the services' instrumentations is set up before any
          // test module loads (services/runtime/test/support/tracing-setup.ts).
          name: 'traced',
          include: ['services/*/test/**/*.traced.test.ts'],
          globalSetup: ['services/testkit/src/global-setup.ts'],
          setupFiles: ['services/runtime/test/support/tracing-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'fuzz',
          include: ['services/*/test/**/*.fuzz.test.ts'],
          globalSetup: ['services/testkit/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
        },
      },
      {
        test: {
          name: 'disruptive',
          include: ['services/*/test/**/*.disrupt.test.ts'],
          globalSetup: ['services/testkit/src/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 4 },
        },
      },
      {
        test: {
          name: 'faults',
          include: ['services/*/test/**/*.fault.test.ts'],
          globalSetup: ['services/testkit/src/global-setup.ts'],
          // One phase is about five minutes of load and faults, then the mesh settles (bounded).
          testTimeout: 1_200_000,
          hookTimeout: 300_000,
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 5 },
        },
      },
    ],
  },
})
