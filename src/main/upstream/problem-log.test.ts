import { describe, expect, it } from 'vitest'
import { ProblemLog, problemKey } from './problem-log'
import { toSafeNumber } from './quantity'

describe('ProblemLog', () => {
  it('logs a problem once per quiet period, then again with the number of repeats held back', () => {
    let now = 0
    const lines: string[] = []
    const problems = new ProblemLog((m) => lines.push(m), { quietMs: 1_000, now: () => now })
    for (let i = 0; i < 100; i++) problems.report(`answer to unknown or timed-out request id ${i}`)
    problems.report('log address is not 20 bytes of hex')
    expect(lines).toEqual(['answer to unknown or timed-out request id 0', 'log address is not 20 bytes of hex'])
    now = 1_000
    problems.report('answer to unknown or timed-out request id 7')
    expect(lines.at(-1)).toBe('answer to unknown or timed-out request id 7 (repeated 99 times since it was last logged)')
  })

  it('caps the lines per window even when every problem is different', () => {
    let now = 0
    const lines: string[] = []
    const problems = new ProblemLog((m) => lines.push(m), { quietMs: 1_000, maxLinesPerWindow: 3, now: () => now })
    for (const word of ['alpha', 'beta', 'gamma', 'delta', 'epsilon']) problems.report(`problem ${word}`)
    expect(lines).toEqual(['problem alpha', 'problem beta', 'problem gamma'])
    now = 1_000
    problems.report('problem zeta')
    expect(lines.slice(3)).toEqual(['2 more upstream problems were not logged in the last 1 s', 'problem zeta'])
  })

  it('treats messages that differ only in peer-supplied numbers, hex or quoted text as one problem', () => {
    expect(problemKey('answer with unexpected id "abc" for 0xdeadbeef at 12')).toBe(problemKey('answer with unexpected id "x" for 0x01 at 9'))
  })
})

describe('toSafeNumber', () => {
  it('takes hex quantities up to 2^53 - 1 and names the problem otherwise', () => {
    expect(toSafeNumber('0x1fffffffffffff')).toEqual({ ok: true, value: Number.MAX_SAFE_INTEGER })
    expect(toSafeNumber('0x20000000000000')).toMatchObject({ ok: false, problem: expect.stringMatching(/^out of range/) })
    expect(toSafeNumber(`0x${'f'.repeat(65)}`)).toEqual({ ok: false, problem: 'not a hex quantity' })
    expect(toSafeNumber(5)).toEqual({ ok: false, problem: 'not a hex quantity' })
  })
})
