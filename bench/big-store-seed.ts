/**
 * The big store's contents (bench/big-store.bench.ts): captured events in the store's current
 * shape, written through a connection of the bench's own in large transactions, which takes
 * minutes where capturing them would take days.
 *
 * A captured log is stored once (migration 11): its chain_logs row holds the columns and the
 * raw object (`encodeRawLog`), and each stream that captured it has an events row pointing at
 * it (block hash, log index) with its own columns NULL, as EventStore.enqueueLog writes them.
 * The logs are mainnet-shaped (mainnet-logs.mjs: ERC-20 transfers and approvals, Uniswap V2
 * and V3 swaps, WETH deposits), half of the token transfers and approvals moved to a long
 * tail of LONG_TAIL token contracts (Zipf-distributed, so a few are busy and most are rare),
 * every block with new block and transaction hashes and data. The subscriptions are those of
 * STREAMS: six `logs` filters, `newHeads` (one row per block, the header as its payload) and a
 * paused `newPendingTransactions` (the hashes of the next block's transactions, seen pending).
 */
import { createHash } from 'node:crypto'
import type { Db } from '../src/main/store/database'
import { INSERT_CHAIN_LOG_SQL } from '../src/main/store/sqlite-chain-store'
import { INSERT_EVENT_SQL } from '../src/main/store/event-store'
import { encodeRawLog } from '../src/main/store/raw-log'
import type { SubscriptionSpec } from '../src/shared/subscription-params'
import { FIRST_BLOCK, LOGS_PER_BLOCK, MainnetLogs, TOPIC, type LogTemplate } from './mainnet-logs.mjs'

export const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'
export const WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2'
export const USDC_WETH_V2 = '0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc'
/** Token contracts of the long tail (besides mainnet-logs.mjs's own few). */
export const LONG_TAIL = 400

export interface StreamDef {
  key: string
  label: string
  spec: SubscriptionSpec
  /** Created paused (its type is not served by the flood server). */
  paused?: boolean
  /** Whether a log (address, topic0) belongs to this `logs` stream. */
  matches?: (address: string, topic0: string | undefined) => boolean
}

export const STREAMS: StreamDef[] = [
  {
    key: 'transfers',
    label: 'ERC-20 Transfers',
    spec: { type: 'logs', params: { topics: [TOPIC.transfer] } },
    matches: (_a, t) => t === TOPIC.transfer,
  },
  { key: 'usdc', label: 'USDC', spec: { type: 'logs', params: { address: USDC } }, matches: (a) => a === USDC },
  {
    key: 'v3-swaps',
    label: 'Uniswap V3 swaps',
    spec: { type: 'logs', params: { topics: [TOPIC.v3Swap] } },
    matches: (_a, t) => t === TOPIC.v3Swap,
  },
  { key: 'weth', label: 'WETH', spec: { type: 'logs', params: { address: WETH } }, matches: (a) => a === WETH },
  {
    key: 'approvals',
    label: 'Approvals',
    spec: { type: 'logs', params: { topics: [TOPIC.approval] } },
    matches: (_a, t) => t === TOPIC.approval,
  },
  { key: 'usdc-weth-v2', label: 'USDC/WETH V2 pair', spec: { type: 'logs', params: { address: USDC_WETH_V2 } }, matches: (a) => a === USDC_WETH_V2 },
  { key: 'heads', label: 'Heads', spec: { type: 'newHeads', params: {} } },
  { key: 'pending', label: 'Pending transactions', spec: { type: 'newPendingTransactions', params: {} }, paused: true },
]

const LOG_STREAMS = STREAMS.filter((s) => s.matches)

/** The log streams a log belongs to (indexes into STREAMS). */
export function streamsOf(address: string, topic0: string | undefined): number[] {
  const out: number[] = []
  for (let i = 0; i < STREAMS.length; i++) if (STREAMS[i]!.matches?.(address, topic0)) out.push(i)
  return out
}

const sha = (text: string): string => `0x${createHash('sha256').update(text).digest('hex')}`
const hex = (n: number): string => `0x${n.toString(16)}`
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0')

/** splitmix32, as in mainnet-logs.mjs. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export const LONG_TAIL_TOKENS = Array.from({ length: LONG_TAIL }, (_, i) => sha(`big-store-token-${i}`).slice(0, 42))
/** Cumulative Zipf weights (1/rank) over LONG_TAIL_TOKENS, scaled to 2^32. */
const ZIPF = (() => {
  const weights = LONG_TAIL_TOKENS.map((_, i) => 1 / (i + 1))
  const total = weights.reduce((a, b) => a + b, 0)
  let sum = 0
  return weights.map((w) => (sum += w) / total)
})()
const zipfPick = (r: number): string => {
  const x = r / 2 ** 32
  let lo = 0
  let hi = ZIPF.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (ZIPF[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return LONG_TAIL_TOKENS[lo]!
}

/** Seeded block `b` is block SEED_FIRST_BLOCK + b: history below the flood server's chain (FIRST_BLOCK - 1 on). */
export const SEED_FIRST_BLOCK = FIRST_BLOCK - 100_000
const SEED_FIRST_TIMESTAMP = 1_753_800_000

export interface SeededLog {
  blockNumber: number
  blockHash: string
  logIndex: number
  transactionHash: string
  transactionIndex: number
  address: string
  topics: string[]
  data: string
}

export interface SeedResult {
  events: number
  chainLogs: number
  blocks: number
  /** Events per stream key. */
  perStream: Record<string, number>
  /** The last chain_logs row written (block, log index): the pruner's position once it has walked them. */
  lastLog: { block: number; index: number }
  /** Samples for the filter variants: a log and a pending transaction from the middle of the history, a rare token. */
  middleLog: SeededLog
  rareToken: string
  rareTokenEvents: number
}

const templates = new MainnetLogs().templates
const templatesOfSlot = (slot: number): LogTemplate[] => templates.slice(slot * LOGS_PER_BLOCK, (slot + 1) * LOGS_PER_BLOCK)
const BLOCKS_PER_ROUND = templates.length / LOGS_PER_BLOCK

/** One seeded block's logs, with new hashes and data and half the token logs on the long tail. */
function blockLogs(b: number, blockHash: string, txHash: (slot: number) => string): SeededLog[] {
  const next = prng(0xb16b0000 + b)
  return templatesOfSlot(b % BLOCKS_PER_ROUND).map((t) => {
    const r = next()
    const topic0 = t.topics[0]
    const token = (topic0 === TOPIC.transfer || topic0 === TOPIC.approval) && (r & 1) === 0
    return {
      blockNumber: SEED_FIRST_BLOCK + b,
      blockHash,
      logIndex: t.logIndex,
      transactionHash: txHash(t.txSlot),
      transactionIndex: t.transactionIndex,
      address: token ? zipfPick(next()) : t.address,
      topics: t.topics,
      data: t.data.length > 10 ? `${t.data.slice(0, -8)}${hex8(next())}` : t.data,
    }
  })
}

function header(b: number, hash: string, parentHash: string): Record<string, unknown> {
  const number = SEED_FIRST_BLOCK + b
  const bloom = sha(`bloom-${b}`).slice(2).repeat(8)
  return {
    baseFeePerGas: hex(400_000_000 + ((b * 7919) % 300_000_000)),
    blobGasUsed: hex((b % 7) * 131072),
    difficulty: '0x0',
    excessBlobGas: '0x0',
    extraData: '0x6265617665726275696c642e6f7267',
    gasLimit: '0x2255100',
    gasUsed: hex(18_000_000 + ((b * 104729) % 17_000_000)),
    hash,
    logsBloom: `0x${bloom}`,
    miner: '0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5',
    mixHash: sha(`mix-${b}`),
    nonce: '0x0000000000000000',
    number: hex(number),
    parentBeaconBlockRoot: sha(`beacon-${b}`),
    parentHash,
    receiptsRoot: sha(`receipts-${b}`),
    requestsHash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    sha3Uncles: '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347',
    size: hex(90_000 + ((b * 31) % 60_000)),
    stateRoot: sha(`state-${b}`),
    timestamp: hex(SEED_FIRST_TIMESTAMP + 12 * b),
    transactionsRoot: sha(`txroot-${b}`),
    withdrawalsRoot: sha(`withdrawals-${b}`),
  }
}

/**
 * Writes about `events` captured events (whole blocks: it stops after the block that reaches
 * the count) for `connectionId`, into the streams `streamIds` (by STREAMS' keys), received
 * over the 12 s blocks before `endAt`.
 */
export function seedBigStore(
  db: Db,
  events: number,
  target: { connectionId: number; streamIds: Record<string, number>; endAt: number; onProgress?: (events: number) => void },
): SeedResult {
  const insertEvent = db.prepare(INSERT_EVENT_SQL)
  const insertLog = db.prepare(INSERT_CHAIN_LOG_SQL)
  const { connectionId } = target
  const logStreams = LOG_STREAMS.map((s) => ({ key: s.key, id: target.streamIds[s.key]!, matches: s.matches! }))
  const headStream = target.streamIds.heads!
  const pendingStream = target.streamIds.pending!
  // About 275 events a block (measured on the mix): received times end near endAt.
  const blocksEstimate = Math.ceil(events / 275)
  const firstReceivedAt = target.endAt - blocksEstimate * 12_000
  const perStream: Record<string, number> = Object.fromEntries(STREAMS.map((s) => [s.key, 0]))
  let count = 0
  let chainLogs = 0
  let b = 0
  let lastLog = { block: -1, index: -1 }
  let middleLog: SeededLog | null = null
  const rareToken = LONG_TAIL_TOKENS[LONG_TAIL - 1]!
  let rareTokenEvents = 0
  const txHashOf = (block: number) => (slot: number) => sha(`big-store-tx-${block}-${slot}`)
  let parentHash = sha('big-store-block--1')
  // One transaction per ~100,000 events: large enough to seed fast, small enough for the WAL.
  const writeBlocks = db.transaction((until: number) => {
    while (count < until) {
      const blockHash = sha(`big-store-block-${b}`)
      const blockNumber = SEED_FIRST_BLOCK + b
      const receivedAt = firstReceivedAt + b * 12_000
      const logs = blockLogs(b, blockHash, txHashOf(b))
      // Pending transactions first (seen before their block): hashes of the next block's transactions.
      const pending = prng(0x9e1d0000 + b)() % 27
      const nextTx = txHashOf(b + 1)
      for (let i = 0; i < pending; i++) {
        const hash = nextTx(i)
        insertEvent.run(
          connectionId,
          pendingStream,
          'pending_transaction',
          null,
          null,
          hash,
          null,
          null,
          null,
          null,
          null,
          0,
          JSON.stringify(hash),
          receivedAt - 12_000 + i * 400,
        )
        perStream.pending! += 1
        count += 1
      }
      insertEvent.run(
        connectionId,
        headStream,
        'head',
        blockNumber,
        blockHash,
        null,
        null,
        null,
        null,
        null,
        null,
        0,
        JSON.stringify(header(b, blockHash, parentHash)),
        receivedAt,
      )
      perStream.heads! += 1
      count += 1
      const timestamp = hex(SEED_FIRST_TIMESTAMP + 12 * b)
      // The tracker's chain_logs rows (captured logs only: the pruner takes the others once final).
      const captured: { log: SeededLog; streams: number[] }[] = []
      for (const log of logs) {
        const streams: number[] = []
        for (let s = 0; s < logStreams.length; s++) if (logStreams[s]!.matches(log.address, log.topics[0])) streams.push(s)
        if (streams.length === 0) continue
        const raw = {
          address: log.address,
          topics: log.topics,
          data: log.data,
          blockNumber: hex(blockNumber),
          transactionHash: log.transactionHash,
          transactionIndex: hex(log.transactionIndex),
          blockHash,
          blockTimestamp: timestamp,
          logIndex: hex(log.logIndex),
          removed: false,
        }
        insertLog.run(
          connectionId,
          blockHash,
          blockNumber,
          log.logIndex,
          log.transactionHash,
          log.transactionIndex,
          log.address,
          log.topics.join(','),
          log.data,
          encodeRawLog(log, raw),
        )
        chainLogs += 1
        lastLog = { block: blockNumber, index: log.logIndex }
        captured.push({ log, streams })
        if (log.address === rareToken) rareTokenEvents += streams.length
      }
      // Each watch's rows for the block, one stream after the other, as EventStore.enqueueLog writes them.
      for (let s = 0; s < logStreams.length; s++) {
        const stream = logStreams[s]!
        for (const { log, streams } of captured) {
          if (!streams.includes(s)) continue
          insertEvent.run(connectionId, stream.id, 'log', blockNumber, blockHash, null, null, log.logIndex, null, null, null, 0, null, receivedAt + 50 + s)
          perStream[stream.key]! += 1
          count += 1
        }
      }
      if (middleLog === null && count >= events / 2 && captured.length > 0) middleLog = captured[Math.floor(captured.length / 2)]!.log
      parentHash = blockHash
      b += 1
    }
  })
  while (count < events) {
    writeBlocks(Math.min(events, count + 100_000))
    target.onProgress?.(count)
  }
  return {
    events: count,
    chainLogs,
    blocks: b,
    perStream,
    lastLog,
    middleLog: middleLog!,
    rareToken,
    rareTokenEvents,
  }
}
