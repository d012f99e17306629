import { DiagLogLevel } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { diagLevelOf, jsonDiagLogger } from '../src/telemetry/diag-log.ts'

describe('diagLevelOf (how much the OpenTelemetry SDK logs about itself)', () => {
  it('when OTEL_LOG_LEVEL is unset or empty, then warnings and errors', () => {
    expect(diagLevelOf({})).toBe(DiagLogLevel.WARN)
    expect(diagLevelOf({ OTEL_LOG_LEVEL: ' ' })).toBe(DiagLogLevel.WARN)
  })

  it('when OTEL_LOG_LEVEL names a level, in any case, then that level', () => {
    expect(diagLevelOf({ OTEL_LOG_LEVEL: 'DEBUG' })).toBe(DiagLogLevel.DEBUG)
    expect(diagLevelOf({ OTEL_LOG_LEVEL: 'none' })).toBe(DiagLogLevel.NONE)
  })

  it('when OTEL_LOG_LEVEL is not a level, then the start fails naming the variable', () => {
    expect(() => diagLevelOf({ OTEL_LOG_LEVEL: 'loud' })).toThrow(/OTEL_LOG_LEVEL: "loud" is not one of none, error, warn/)
  })
})

describe('jsonDiagLogger', () => {
  it('writes one JSON line per message, with the level label, the service and the component', () => {
    const lines: string[] = []
    const logger = jsonDiagLogger('order', (l) => lines.push(l))

    logger.error('export failed', new Error('connect ECONNREFUSED 127.0.0.1:9411'))
    logger.warn('Dropped 3 spans')

    expect(lines.every((l) => l.endsWith('\n'))).toBe(true)
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(parsed).toMatchObject([
      { level: 'error', service: 'order', component: 'opentelemetry', msg: 'export failed connect ECONNREFUSED 127.0.0.1:9411' },
      { level: 'warn', service: 'order', component: 'opentelemetry', msg: 'Dropped 3 spans' },
    ])
    expect(Number.isNaN(Date.parse(String(parsed[0]!['time'])))).toBe(false)
  })

  it("when the SDK hands over an error it caught as JSON, then its message is the line's msg and the rest its err", () => {
    const lines: string[] = []
    const caught = { message: 'connect ECONNREFUSED 127.0.0.1:9411', code: 'ECONNREFUSED', stack: 'Error: connect ECONNREFUSED' }

    jsonDiagLogger('favorites', (l) => lines.push(l)).error(JSON.stringify(caught))

    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', msg: 'connect ECONNREFUSED 127.0.0.1:9411', err: caught })
  })
})
