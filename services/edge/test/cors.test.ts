import { describe, expect, it } from 'vitest'
import { corsFor } from '../src/cors.ts'

const preflight = { origin: 'https://family.example', 'access-control-request-method': 'POST' }

describe('CORS at the edge', () => {
  it('answers a preflight from a configured origin with the methods and headers a call needs', () => {
    const answer = corsFor(['https://family.example'])('OPTIONS', preflight)
    expect(answer).toMatchObject({ preflight: true, refused: false })
    expect(answer.headers['access-control-allow-origin']).toBe('https://family.example')
    expect(answer.headers['access-control-allow-headers']).toMatch(/Authorization/)
    expect(answer.headers['access-control-allow-headers']).toMatch(/Connect-Protocol-Version/)
  })

  it('refuses a preflight from an origin that is not configured, and adds nothing to its calls', () => {
    const cors = corsFor(['https://family.example'])
    expect(cors('OPTIONS', { ...preflight, origin: 'https://evil.example' })).toEqual({ headers: {}, preflight: true, refused: true })
    expect(cors('POST', { origin: 'https://evil.example' }).headers).toEqual({})
  })

  it('exposes the status headers to pages on allowed origins, and leaves callers without an Origin alone', () => {
    const cors = corsFor(['*'])
    expect(cors('POST', { origin: 'http://localhost:5173' }).headers['access-control-expose-headers']).toMatch(/Grpc-Status/)
    expect(cors('POST', {})).toEqual({ headers: {}, preflight: false, refused: false })
  })
})
