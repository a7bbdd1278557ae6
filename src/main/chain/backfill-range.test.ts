import { describe, expect, it } from 'vitest'
import { backfillRange } from './backfill-range'

/** A chain with `perBlock` logs in every block, answered as eth_getLogs would, recording each ask. */
function node(perBlock: number, refuseWiderThan = Infinity) {
  const asked: [number, number][] = []
  const fetchRange = async (from: number, to: number): Promise<number[]> => {
    asked.push([from, to])
    await new Promise((resolve) => setImmediate(resolve))
    if (to - from + 1 > refuseWiderThan) throw new Error('query returned more than 10000 results')
    return Array.from({ length: (to - from + 1) * perBlock }, (_, i) => from + Math.floor(i / perBlock))
  }
  return { asked, fetchRange }
}

describe('backfillRange', () => {
  it('asks for the next range while the caller stores the current one', async () => {
    // No logs: the range grows to twice the size.
    const { asked, fetchRange } = node(0)
    const ranges = backfillRange(fetchRange, 0, 9_999, { initialSize: 1_000 })
    const first = await ranges.next()
    expect(first.value).toMatchObject({ from: 0, to: 999 })
    // The caller has not asked for more, yet the next range is on its way.
    expect(asked).toEqual([
      [0, 999],
      [1_000, 2_999],
    ])
    await ranges.return(undefined)
  })

  it('keeps answers near `denseAbove` results on a dense chain, and every block comes once, in order', async () => {
    const { asked, fetchRange } = node(100)
    const blocks: number[] = []
    for await (const range of backfillRange(fetchRange, 0, 2_999, { initialSize: 2_000, denseAbove: 10_000 })) {
      expect(range.items.every((b) => b >= range.from && b <= range.to)).toBe(true)
      for (let b = range.from; b <= range.to; b++) blocks.push(b)
    }
    expect(blocks).toEqual(Array.from({ length: 3_000 }, (_, i) => i))
    // The first answer had 200,000 logs; every range after it asks for 100 blocks (10,000 logs).
    expect(asked[0]).toEqual([0, 1_999])
    expect(asked.slice(1).every(([a, b]) => b - a + 1 <= 100)).toBe(true)
  })

  it('halves a range the node refuses, even one asked for ahead, and misses nothing', async () => {
    const { asked, fetchRange } = node(1, 300)
    const blocks: number[] = []
    for await (const range of backfillRange(fetchRange, 0, 1_999, { initialSize: 250 })) for (let b = range.from; b <= range.to; b++) blocks.push(b)
    expect(blocks).toEqual(Array.from({ length: 2_000 }, (_, i) => i))
    // 250 passed; 500 (asked ahead after a sparse answer) was refused and asked again as 250.
    expect(asked.slice(0, 3)).toEqual([
      [0, 249],
      [250, 749],
      [250, 499],
    ])
  })

  it('a caller that stops early leaves no failed request unhandled', async () => {
    let calls = 0
    const ranges = backfillRange(
      async (from) => {
        calls += 1
        if (from > 0) throw new Error('the socket closed')
        return [0]
      },
      0,
      999,
      { initialSize: 10 },
    )
    for await (const range of ranges) {
      expect(range.from).toBe(0)
      break
    }
    // The request asked ahead failed after the caller left; the process must not see an unhandled rejection.
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(calls).toBe(2)
  })
})
