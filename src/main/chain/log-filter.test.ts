/** The union of watch filters that one eth_getLogs per block carries. */
import { describe, expect, it } from 'vitest'
import { matchesAny, matchesFilter, unionFilter } from './log-filter'

const A = '0x00000000000000000000000000000000000000aa'
const B = '0x00000000000000000000000000000000000000bb'
const T = (n: number) => `0x${n.toString(16).padStart(64, '0')}`

describe('unionFilter', () => {
  it('joins addresses and topics position by position', () => {
    expect(
      unionFilter([
        { address: [B], topics: [[T(1)], [T(2)]] },
        { address: [A, B], topics: [[T(3)], [T(4)], [T(5)]] },
      ]),
    ).toEqual({
      address: [A, B],
      topics: [
        [T(1), T(3)],
        [T(2), T(4)],
      ],
    })
  })

  it('takes any address when one filter does, and any topic where one filter does', () => {
    expect(unionFilter([{ address: [A], topics: [[T(1)], null, [T(2)]] }, { topics: [[T(3)], [T(4)], [T(5)]] }])).toEqual({
      topics: [[T(1), T(3)], null, [T(2), T(5)]],
    })
    expect(unionFilter([{ address: [A] }, { address: [B], topics: [[T(1)]] }])).toEqual({ address: [A, B] })
  })

  it('matches every log any of its filters matches', () => {
    const filters = [{ address: [A], topics: [[T(1)]] }, { topics: [null, [T(9)]] }]
    const union = unionFilter(filters)
    const logs = [
      { address: A, topics: [T(1)] },
      { address: B, topics: [T(2), T(9)] },
      { address: B, topics: [T(1)] },
      { address: A, topics: [] },
    ]
    for (const log of logs) if (matchesAny(log, filters)) expect(matchesFilter(log, union)).toBe(true)
    expect(logs.map((log) => matchesAny(log, filters))).toEqual([true, true, false, false])
  })
})
