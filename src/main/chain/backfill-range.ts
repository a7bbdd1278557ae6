/**
 * eth_getLogs over a long block range in pieces that adapt to the upstream's limits:
 * providers refuse too many results (Infura: 10,000) or too wide a range (10,000 blocks),
 * with messages rather than standard codes. Halve on such a refusal, grow while sparse.
 */
import { isRateLimit } from '../upstream/rpc-errors'

export interface RangeOptions {
  initialSize?: number
  maxSize?: number
  /** Results below this count let the range grow. */
  sparseBelow?: number
}

const TOO_MUCH = /more than|too many|too large|range|limit|exceed|response size|timeout|query returned/i

export function isRangeRefusal(error: unknown): boolean {
  return error instanceof Error && (TOO_MUCH.test(error.message) || isRateLimit(error))
}

export async function* backfillRange<T>(
  fetchRange: (from: number, to: number) => Promise<T[]>,
  from: number,
  to: number,
  options: RangeOptions = {},
): AsyncGenerator<{ from: number; to: number; items: T[] }> {
  const maxSize = options.maxSize ?? 10_000
  let size = Math.min(options.initialSize ?? 2_000, maxSize)
  let start = from
  while (start <= to) {
    const end = Math.min(to, start + size - 1)
    let items: T[]
    try {
      items = await fetchRange(start, end)
    } catch (error) {
      if (!isRangeRefusal(error) || end === start) throw error
      size = Math.max(1, Math.floor((end - start + 1) / 2))
      if (isRateLimit(error)) await new Promise((resolve) => setTimeout(resolve, 1_000))
      continue
    }
    yield { from: start, to: end, items }
    start = end + 1
    if (items.length < (options.sparseBelow ?? 1_000)) size = Math.min(maxSize, size * 2)
  }
}
