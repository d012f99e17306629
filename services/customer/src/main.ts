import { runService } from '@brewmesh/runtime/service'
import { startApp } from './app.ts'
import { readConfig } from './config.ts'

// Read config, start, stop on a signal. Nothing else belongs here.
await runService(() => startApp(readConfig()))
