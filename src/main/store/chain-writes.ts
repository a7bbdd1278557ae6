/**
 * The tracker's chain rows as the events writer thread commits them: ChainStore queues them
 * with the captured rows (a CommitQueue, which EventStore is), and EventStore's batches run
 * them in order. The SQL, in one place for the store, the writer and the benchmarks.
 */
import type { ChainLog } from './chain-store'
import { encodeRawLog } from './raw-log'
import type { FlatOps } from './sqlite-writer'

/** Writes queued with the captured rows, in order, and told when their batch commits. */
export interface CommitQueue {
  /** `ops` holds `count` statements; resolves once committed (a failed commit keeps them queued and retries), rejects if the store closes first. */
  enqueueCommitted(ops: FlatOps, count: number): Promise<void>
  /** Runs a main-thread write when the writer thread has nothing in flight (at once, or right after its batch commits). */
  whenIdle(run: () => void): void
}

/** A canonical block's header (again canonical if a reorg had taken it back and put it back). */
export const INSERT_BLOCK_SQL = `INSERT INTO chain_blocks (connection_id, number, hash, parent_hash, timestamp, canonical, header_json) VALUES (?, ?, ?, ?, ?, 1, ?)
  ON CONFLICT (connection_id, hash) DO UPDATE SET canonical = 1`

/** A canonical block's log (again canonical if a reorg had taken it back and put it back). */
export const INSERT_CHAIN_LOG_SQL = `INSERT INTO chain_logs (connection_id, block_hash, block_number, log_index, tx_hash, tx_index, address, topics, data, canonical, raw_json)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (connection_id, block_hash, log_index) DO UPDATE SET canonical = 1`

/** The tracker's position: the last stored canonical block (first_block is kept from the first save). */
export const SAVE_CHAIN_CURSOR_SQL = `INSERT INTO chain_cursor (connection_id, first_block, number, hash) VALUES (?, ?, ?, ?)
  ON CONFLICT (connection_id) DO UPDATE SET number = excluded.number, hash = excluded.hash`

/** Finality moved: never backwards. */
export const SAVE_FINALIZED_SQL = 'UPDATE chain_cursor SET finalized = ? WHERE connection_id = ? AND finalized < ?'

/** EventStore's batches hold its own statements first (CAPTURE_STATEMENTS of them), then these, by index. */
export const CAPTURE_STATEMENTS = 5
export const CHAIN_WRITE_STATEMENTS = [INSERT_BLOCK_SQL, INSERT_CHAIN_LOG_SQL, SAVE_CHAIN_CURSOR_SQL, SAVE_FINALIZED_SQL] as const
/** A chain statement's index in a batch (FlatOps). */
export const CHAIN_WRITE = {
  block: CAPTURE_STATEMENTS,
  log: CAPTURE_STATEMENTS + 1,
  cursor: CAPTURE_STATEMENTS + 2,
  finalized: CAPTURE_STATEMENTS + 3,
} as const

/** Queues a chain_logs row: `statement` (the tracker's upsert or capture's insert-if-absent), then the log's columns and its raw object as stored. */
export function pushChainLogRow(ops: FlatOps, statement: number, connectionId: number, log: ChainLog): void {
  ops.push(
    statement,
    connectionId,
    log.blockHash,
    log.blockNumber,
    log.logIndex,
    log.transactionHash,
    log.transactionIndex,
    log.address,
    log.topics.join(','),
    log.data,
    encodeRawLog(log, log.raw),
  )
}
