import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation'

/**
 * iovalkey is a fork of ioredis with the same internals, but the ioredis instrumentation
 * only hooks the module name "ioredis". This re-registers the same patch for "iovalkey".
 */
export class IovalkeyInstrumentation extends IORedisInstrumentation {
  constructor() {
    super({ requireParentSpan: true })
  }

  override init() {
    const definitions = super.init() as InstrumentationNodeModuleDefinition[]
    return definitions.map((d) => new InstrumentationNodeModuleDefinition('iovalkey', ['>=0.1.0'], d.patch, d.unpatch, d.files))
  }
}
