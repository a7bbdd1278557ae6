/**
 * eth_getLogs over a long block range in pieces that adapt to the upstream's limits:
 * providers refuse too many results (Infura: 10,000) or too wide a range (10,000 blocks),
 * with messages rather than standard codes. Halve on such a refusal, grow while sparse.
 */
import { isRateLimit } from '../upstream/rpc-errors'

const TOO_MUCH = /more than|too many|too large|range|limit|exceed|response size|timeout|query returned/i

export function isRangeRefusal(error: unknown): boolean {
  return error instanceof Error && (TOO_MUCH.test(error.message) || isRateLimit(error))
}

export interface RangeOptions {
  initialSize?: number
  maxSize?: number
  /** Results below this count let the range grow. */
  sparseBelow?: number
  /** Results above this count shrink the next range in proportion: answers stay a few MB, not a whole node's limit. */
  denseAbove?: number
}

/**
 * The next range is asked for as soon as the current one's answer is in, while the caller
 * stores it: fetching and storing overlap instead of taking turns. A refused or failed
 * request is handled when its turn comes, as if it had been sent then.
 */
export async function* backfillRange<T>(
  fetchRange: (from: number, to: number) => Promise<T[]>,
  from: number,
  to: number,
  options: RangeOptions = {},
): AsyncGenerator<{ from: number; to: number; items: T[] }> {
  const maxSize = options.maxSize ?? 10_000
  const sparseBelow = options.sparseBelow ?? 1_000
  const denseAbove = options.denseAbove ?? 10_000
  let size = Math.min(options.initialSize ?? 2_000, maxSize)
  let start = from
  let ahead: { start: number; end: number; answer: Promise<T[]> } | null = null
  const ask = (a: number, b: number) => {
    const answer = fetchRange(a, b)
    // Awaited when its turn comes; a caller that stops before then must not leave it unhandled.
    answer.catch(() => undefined)
    return { start: a, end: b, answer }
  }
  while (start <= to) {
    const current = ahead?.start === start ? ahead : ask(start, Math.min(to, start + size - 1))
    ahead = null
    const { end } = current
    let items: T[]
    try {
      items = await current.answer
    } catch (error) {
      if (!isRangeRefusal(error) || end === start) throw error
      size = Math.max(1, Math.floor((end - start + 1) / 2))
      if (isRateLimit(error)) await new Promise((resolve) => setTimeout(resolve, 1_000))
      continue
    }
    const width = end - start + 1
    if (items.length > denseAbove) size = Math.max(1, Math.floor((width * denseAbove) / items.length))
    else if (items.length < sparseBelow) size = Math.min(maxSize, size * 2)
    start = end + 1
    if (start <= to) ahead = ask(start, Math.min(to, start + size - 1))
    yield { from: current.start, to: end, items }
  }
}
