import { ConfigError } from '@brewmesh/runtime/config.ts'
import { startApp } from './app.ts'
import { readConfig } from './config.ts'

// Read config, start, stop on a signal. Nothing else belongs here.
try {
  const app = await startApp(readConfig())
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down')
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(err instanceof ConfigError ? 2 : 1)
}
