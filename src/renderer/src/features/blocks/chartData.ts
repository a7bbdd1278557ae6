import type { Head } from '@shared/contract'
import { toBigInt } from '../../ui/format'

export interface ChartDatum {
  number: number
  /** Seconds since the previous block, when that block is in the window. */
  blockTime: number | null
  gasUsed: number
  gasLimit: number
  /** Gas used as a share of the gas limit, 0–100; null when the limit is zero or unreadable. */
  gasPercent: number | null
  /** Base fee in gwei (fractional); null before London. */
  baseFeeGwei: number | null
  txCount: number | null
  /** How many heads of this number were received: more than one means a reorg replaced it. */
  received: number
  head: Head
}

/** Block numbers that appear more than once in a heads list: each repeated height is a reorg. */
export function repeatedNumbers(heads: readonly Head[]): Set<number> {
  const seen = new Set<number>()
  const repeated = new Set<number>()
  for (const head of heads) {
    if (seen.has(head.number)) repeated.add(head.number)
    else seen.add(head.number)
  }
  return repeated
}

function gweiOf(wei: string | null): number | null {
  const value = toBigInt(wei)
  if (value === null) return null
  // Whole gwei exactly, then the fraction: fine for any realistic base fee.
  return Number(value / 1_000_000_000n) + Number(value % 1_000_000_000n) / 1e9
}

/**
 * Heads (newest first, possibly with reorged duplicates) to one point per block number in
 * ascending order: the most recently received head of a number wins, as the node's current view.
 * With `maxBlocks`, only the newest that many block numbers are kept.
 */
export function toChartData(heads: readonly Head[], maxBlocks?: number): ChartDatum[] {
  const byNumber = new Map<number, Head>()
  const counts = new Map<number, number>()
  for (const head of heads) {
    counts.set(head.number, (counts.get(head.number) ?? 0) + 1)
    const existing = byNumber.get(head.number)
    if (!existing || head.id > existing.id) byNumber.set(head.number, head)
  }
  let ordered = [...byNumber.values()].sort((a, b) => a.number - b.number)
  if (maxBlocks !== undefined && ordered.length > maxBlocks) ordered = ordered.slice(ordered.length - maxBlocks)
  return ordered.map((head, index) => {
    const previous = index > 0 ? ordered[index - 1] : undefined
    const blockTime = previous && previous.number === head.number - 1 ? head.timestamp - previous.timestamp : null
    const gasUsed = toBigInt(head.gasUsed) ?? 0n
    const gasLimit = toBigInt(head.gasLimit) ?? 0n
    return {
      number: head.number,
      blockTime,
      gasUsed: Number(gasUsed),
      gasLimit: Number(gasLimit),
      gasPercent: gasLimit > 0n ? Number((gasUsed * 10_000n) / gasLimit) / 100 : null,
      baseFeeGwei: gweiOf(head.baseFeePerGas),
      txCount: head.txCount,
      received: counts.get(head.number) ?? 1,
      head,
    }
  })
}
