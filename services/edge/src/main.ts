import { runService } from '@brewmesh/runtime/service'
import { startEdge } from './app.ts'
import { readConfig } from './config.ts'

// Read config, start, stop on a signal. Nothing else belongs here.
await runService(() => startEdge(readConfig()))
