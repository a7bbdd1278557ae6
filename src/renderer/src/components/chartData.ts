import type { Head } from '@shared/contract'
import { toBigInt } from '../format'

export interface ChartDatum {
  number: number
  /** Seconds since the previous block, when that block is in the window. */
  blockTime: number | null
  gasUsed: number
  gasLimit: number
  head: Head
}

/**
 * Heads (newest first, possibly with reorged duplicates) to one point per block number in
 * ascending order: the most recently received head of a number wins, as the node's current view.
 */
export function toChartData(heads: readonly Head[]): ChartDatum[] {
  const byNumber = new Map<number, Head>()
  for (const head of heads) {
    const existing = byNumber.get(head.number)
    if (!existing || head.id > existing.id) byNumber.set(head.number, head)
  }
  const ordered = [...byNumber.values()].sort((a, b) => a.number - b.number)
  return ordered.map((head, index) => {
    const previous = index > 0 ? ordered[index - 1] : undefined
    const blockTime = previous && previous.number === head.number - 1 ? head.timestamp - previous.timestamp : null
    return {
      number: head.number,
      blockTime,
      gasUsed: Number(toBigInt(head.gasUsed) ?? 0n),
      gasLimit: Number(toBigInt(head.gasLimit) ?? 0n),
      head,
    }
  })
}
