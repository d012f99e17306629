import { describe, expect, it } from 'vitest'
import { traceExportOf } from '../src/telemetry/trace-export.ts'

describe('traceExportOf (which exporter the preload loads, if any)', () => {
  it('when nothing is configured, then tracing stays off', () => {
    expect(traceExportOf({})).toBeUndefined()
  })

  it('when an OTLP endpoint is set, then spans go over OTLP (the default exporter)', () => {
    expect(traceExportOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('otlp')
    expect(traceExportOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe('otlp')
    expect(traceExportOf({ OTEL_TRACES_EXPORTER: 'otlp' })).toBeUndefined()
  })

  it('when OTEL_TRACES_EXPORTER is zipkin, then spans go to Zipkin, with or without an endpoint of its own', () => {
    expect(traceExportOf({ OTEL_TRACES_EXPORTER: 'zipkin' })).toBe('zipkin')
    expect(traceExportOf({ OTEL_TRACES_EXPORTER: ' Zipkin ', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('zipkin')
  })

  it('when tracing is disabled or the exporter is none, then tracing stays off whatever the endpoints', () => {
    expect(traceExportOf({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'zipkin' })).toBeUndefined()
    expect(traceExportOf({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined()
  })

  it('when the exporter is one it cannot honour, then the start fails naming the variable', () => {
    expect(() => traceExportOf({ OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(
      /OTEL_TRACES_EXPORTER: "jaeger" is not one of otlp, zipkin, none/,
    )
  })
})
