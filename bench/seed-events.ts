/**
 * Captured events for benchmarks that need a big store: ERC-20 Transfer logs written
 * straight into the `events` table in one transaction, which takes seconds where capturing
 * them would take minutes. Row `i` is in block 18,000,000 + i / 250, with
 * distinct transaction hashes, topics and data.
 */
import type { Db } from '../src/main/store/database'

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'

/** Received times start here and grow by 1 ms a row, so time-range queries can select a prefix. */
export const SEED_RECEIVED_AT = 1_700_000_000_000

export function seedTransferLogs(db: Db, rows: number, target: { connectionId: number; streamId: number }): void {
  const insert =
    db.prepare(`INSERT INTO events (connection_id, stream_id, kind, block_number, block_hash, tx_hash, tx_index, log_index, address, topics, data, removed, payload, received_at)
    VALUES (?, ?, 'log', ?, ?, ?, 0, ?, '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', ?, ?, 0, NULL, ?)`)
  const hex = (n: number) => n.toString(16).padStart(64, '0')
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      insert.run(
        target.connectionId,
        target.streamId,
        18_000_000 + Math.floor(i / 250),
        `0x${hex(Math.floor(i / 250))}`,
        `0x${hex(i + 1e9)}`,
        i % 250,
        `${TRANSFER},0x${hex(i)},0x${hex(i * 7)}`,
        `0x${hex(i * 1_000_000)}`,
        SEED_RECEIVED_AT + i,
      )
    }
  })()
}
