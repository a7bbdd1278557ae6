/** An answer too large for the socket: retried once, then final, and halved by the range backfill. */
import { describe, expect, it } from 'vitest'
import { backfillRange } from '../chain/backfill-range'
import { withRetry } from './retry-request'
import { AnswerTooLargeError, isRateLimit } from './rpc-errors'

describe('AnswerTooLargeError', () => {
  it('is retried once (the oversized frame may have answered another request) and final the second time', async () => {
    let calls = 0
    const failing = withRetry(
      async () => {
        calls += 1
        throw new AnswerTooLargeError('eth_getLogs', 64 * 1024 * 1024)
      },
      5,
      1,
    )
    await expect(failing).rejects.toBeInstanceOf(AnswerTooLargeError)
    expect(calls).toBe(2)
  })

  it('is not a rate limit, and the range backfill halves the range on it', async () => {
    expect(isRateLimit(new AnswerTooLargeError('eth_getLogs', 1))).toBe(false)
    const asked: [number, number][] = []
    const pieces: [number, number][] = []
    const ranges = backfillRange(
      async (from, to) => {
        asked.push([from, to])
        if (to - from + 1 > 250) throw new AnswerTooLargeError('eth_getLogs', 64 * 1024 * 1024)
        return []
      },
      0,
      999,
      { initialSize: 1_000 },
    )
    for await (const piece of ranges) pieces.push([piece.from, piece.to])
    expect(asked.slice(0, 3)).toEqual([
      [0, 999],
      [0, 499],
      [0, 249],
    ])
    expect(pieces[0]).toEqual([0, 249])
    expect(pieces.at(-1)![1]).toBe(999)
  })
})
