/**
 * Captured events for benchmarks that need a big store: ERC-20 Transfer logs written
 * straight into the store in one transaction, which takes seconds where capturing them would
 * take minutes. They are stored as capture stores a watch's logs: each log once in
 * `chain_logs` (its raw object as geth sends it, `blockTimestamp` included, encoded as the
 * store encodes it) and an `events` row pointing at it. Row `i` is in block
 * 18,000,000 + i / 250, with distinct transaction hashes, topics and data.
 */
import { INSERT_CHAIN_LOG_SQL } from '../../src/main/store/sqlite-chain-store'
import type { Db } from '../../src/main/store/database'
import { INSERT_EVENT_SQL } from '../../src/main/store/event-store'
import { encodeRawLog } from '../../src/main/store/raw-log'

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
const TOKEN = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'

/** Received times start here and grow by 1 ms a row, so time-range queries can select a prefix. */
export const SEED_RECEIVED_AT = 1_700_000_000_000

export function seedTransferLogs(db: Db, rows: number, target: { connectionId: number; streamId: number }): void {
  const insertLog = db.prepare(INSERT_CHAIN_LOG_SQL)
  const insertEvent = db.prepare(INSERT_EVENT_SQL)
  const hex = (n: number) => n.toString(16).padStart(64, '0')
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const block = 18_000_000 + Math.floor(i / 250)
      const blockHash = `0x${hex(Math.floor(i / 250))}`
      const log = {
        address: TOKEN,
        topics: [TRANSFER, `0x${hex(i)}`, `0x${hex(i * 7)}`],
        data: `0x${hex(i * 1_000_000)}`,
        blockNumber: block,
        blockHash,
        transactionHash: `0x${hex(i + 1e9)}`,
        transactionIndex: 0,
        logIndex: i % 250,
      }
      const raw = {
        address: log.address,
        topics: log.topics,
        data: log.data,
        blockNumber: `0x${block.toString(16)}`,
        transactionHash: log.transactionHash,
        transactionIndex: '0x0',
        blockHash,
        blockTimestamp: `0x${(1_690_000_000 + 12 * Math.floor(i / 250)).toString(16)}`,
        logIndex: `0x${log.logIndex.toString(16)}`,
        removed: false,
      }
      insertLog.run(target.connectionId, blockHash, block, log.logIndex, log.transactionHash, 0, TOKEN, log.topics.join(','), log.data, encodeRawLog(log, raw))
      insertEvent.run(target.connectionId, target.streamId, 'log', block, blockHash, null, null, log.logIndex, null, null, null, 0, null, SEED_RECEIVED_AT + i)
    }
  })()
}
