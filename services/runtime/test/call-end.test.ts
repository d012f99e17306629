import { describe, expect, it } from 'vitest'
import { CallEnd } from '../src/grpc/call-end.ts'

describe('CallEnd, the end of a streaming call', () => {
  it('calls each listener once, when the call ends, and at once when it has already ended', () => {
    const end = new CallEnd()
    const heard: string[] = []
    end.onEnd(() => heard.push('a'))
    end.onEnd(() => heard.push('b'))
    expect(end.ended).toBe(false)
    end.end(new Error('cancelled'))
    end.end(new Error('again'))
    expect(heard).toEqual(['a', 'b'])
    expect(end.ended).toBe(true)
    end.onEnd(() => heard.push('late'))
    expect(heard).toEqual(['a', 'b', 'late'])
  })

  it('forgets a listener taken off before the end', () => {
    const end = new CallEnd()
    const heard: string[] = []
    const gone = () => heard.push('gone')
    const alone = new CallEnd()
    alone.onEnd(gone)
    alone.off(gone)
    alone.end(new Error('cancelled'))
    expect(heard).toEqual([])

    end.onEnd(() => heard.push('first'))
    end.onEnd(gone)
    end.onEnd(() => heard.push('last'))
    end.off(gone)
    end.end(new Error('cancelled'))
    expect(heard).toEqual(['first', 'last'])
  })

  it('gives handlers an AbortSignal that aborts with the first reason, made before or after the end', () => {
    const before = new CallEnd()
    const signal = before.signal
    expect(signal.aborted).toBe(false)
    const reason = new Error('server shutting down')
    before.end(reason)
    before.end(new Error('cancelled by caller or deadline'))
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBe(reason)
    expect(before.signal).toBe(signal)

    const after = new CallEnd()
    after.end(reason)
    expect(after.signal.aborted).toBe(true)
    expect(after.signal.reason).toBe(reason)
  })
})
