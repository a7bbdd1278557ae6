/**
 * A store's worth of captured events for the page tests (event-pages.test.ts, and
 * event-pages.backends.test.ts on both backends): logs pointing at chain_logs, logs with their
 * own columns, payloads with a transaction's from and to, heads, rows marked removed and
 * orphaned, two connections; busy values (more than FEW_ROWS rows, whose pages walk ids)
 * beside rare ones and ones sharing only their index key with them. Written through the
 * CaptureWriter interface, with fixed received times, so every backend stores the same rows.
 */
import fc from 'fast-check'
import type { CaptureWriter } from '../../src/main/store/capture-writer'
import type { NormalizedEvent } from '../../src/main/store/captured-event'
import type { ChainLog } from '../../src/main/store/chain-store'

export const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
export const RARE_TOPIC = '0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65'
/** The same 8 hex digits after 0x as RARE_TOPIC (the indexes' key), a different topic. */
export const TWIN_TOPIC = `${RARE_TOPIC.slice(0, 10)}${'e'.repeat(56)}`
export const ABSENT_TOPIC = `0x${'4'.repeat(64)}`
export const BUSY = '0x00000000000000000000000000000000000000b5'
export const RARE = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'
/** The same key as RARE. */
export const TWIN = '0xa0b86991ffffffffffffffffffffffffffffffff'
export const OTHER = '0x0000000000000000000000000000000000000007'
/** More than FEW_ROWS (event-query.ts) logs: its pages walk ids. */
export const BUSY_LOGS = 5_200
/** The received time of the seed's first row; each later row one millisecond after the one before. */
export const SEED_START = 1_700_000_000_000

export const hash = (n: number, salt: string): string => `0x${salt}${n.toString(16).padStart(64 - salt.length, '0')}`

export function chainLog(block: number, logIndex: number, address: string, topics: string[]): ChainLog {
  const blockHash = hash(block, 'b')
  const transactionHash = hash(block * 100 + logIndex, 'c')
  const data = `0x${(block * 7 + logIndex).toString(16).padStart(64, '0')}`
  const raw = {
    address,
    topics,
    data,
    blockNumber: `0x${block.toString(16)}`,
    blockHash,
    blockTimestamp: `0x${(1_700_000_000 + block).toString(16)}`,
    transactionHash,
    transactionIndex: '0x0',
    logIndex: `0x${logIndex.toString(16)}`,
    removed: false,
  }
  return { blockNumber: block, blockHash, logIndex, transactionHash, transactionIndex: 0, address, topics, data, raw }
}

/** A log with its own columns, as the notification path stores it. */
export function ownLog(log: ChainLog): NormalizedEvent {
  return { kind: 'log', ...log, removed: false, payload: log.raw }
}

export const other = (kind: NormalizedEvent['kind'], n: number, payload: unknown, block: number | null = null): NormalizedEvent => ({
  kind,
  blockNumber: block,
  blockHash: block === null ? null : hash(block, 'b'),
  transactionHash: hash(n, 'd'),
  transactionIndex: null,
  logIndex: null,
  address: null,
  topics: [],
  data: null,
  removed: false,
  payload,
})

/** Queues the seed's rows into `writer` (connections 1 and 2 must exist); the caller commits them. */
export function seedCapturedEvents(writer: CaptureWriter): void {
  let at = SEED_START
  const next = (): number => at++
  let block = 1
  for (let n = 0; n < BUSY_LOGS; n++) {
    const log = chainLog(block, n % 3, BUSY, n % 9 === 0 ? [] : [TRANSFER, hash(n, 'f')])
    writer.enqueueLog(1, 1, log, false, next())
    if (n % 4 === 0) writer.enqueueLog(1, 2, log, true, next())
    if (n % 3 === 2) block += 1
    // Rare values among the busy ones, in both connections and several streams.
    if (n % 200 === 7) {
      const rare = chainLog(block, 5, RARE, [RARE_TOPIC, hash(n, 'a')])
      writer.enqueueLog(n % 400 === 7 ? 1 : 2, 3, rare, false, next())
      writer.enqueueLog(n % 400 === 7 ? 1 : 2, 4, rare, true, next())
      writer.enqueueLog(1, 3, chainLog(block, 6, TWIN, [TWIN_TOPIC]), false, next())
      // The notification path's own row for the same log (address set): not a pointing row.
      if (n % 600 === 7) writer.enqueue(1, 5, ownLog(rare), next())
      // An own row at a pointed-at log's place with another address: it is not that log.
      if (n % 600 === 207) writer.enqueue(1, 5, ownLog({ ...rare, address: OTHER }), next())
    }
    if (n % 300 === 11) {
      writer.enqueue(1, 5, ownLog(chainLog(block, 9, OTHER, [RARE_TOPIC])), next())
      writer.enqueue(1, 5, ownLog(chainLog(block, 10, RARE, [TRANSFER])), next())
      writer.enqueue(1, 6, other('pending_transaction', n, { hash: hash(n, 'd'), from: RARE.toUpperCase().replace('0X', '0x'), to: OTHER }), next())
      writer.enqueue(1, 6, other('pending_transaction', n + 1, hash(n + 1, 'd')), next())
      writer.enqueue(2, 7, other('mined_transaction', n, { transaction: { from: OTHER, to: RARE } }), next())
      writer.enqueue(2, 7, other('mined_transaction', n + 1, { transaction: { from: RARE, to: null } }), next())
      writer.enqueue(1, 8, other('head', n, { number: `0x${block.toString(16)}`, miner: RARE, hash: hash(block, 'b') }, block), next())
    }
    if (n % 500 === 13) writer.enqueueRemoved(1, hash(block, 'b'), n % 3)
  }
  writer.enqueueOrphaned(2, [hash(100, 'b'), hash(1_000, 'b')])
}

/**
 * Any combination of the live log's filters over the seeded rows (every key optional), for
 * property tests of paging; `texts` are the text filters to try besides the seed's own.
 */
export function seededFilters(texts: string[] = []) {
  return fc.record(
    {
      connectionId: fc.constantFrom(1, 2),
      streamIds: fc.constantFrom<number[]>([1], [3], [2, 4], [5, 6, 7, 8]),
      kind: fc.constantFrom('log' as const, 'head' as const, 'pending_transaction' as const, 'mined_transaction' as const),
      fromBlock: fc.integer({ min: 0, max: 1_800 }),
      toBlock: fc.integer({ min: 0, max: 1_800 }),
      selectors: fc.constantFrom<string[]>([RARE_TOPIC], [TWIN_TOPIC], [TRANSFER], [ABSENT_TOPIC, RARE_TOPIC]),
      address: fc.constantFrom(RARE, TWIN, BUSY, OTHER),
      text: fc.constantFrom(RARE.slice(2, 12), 'A0B86991', TWIN_TOPIC.slice(50), 'nowhere', '0x', ...texts),
    },
    { requiredKeys: [] },
  )
}
