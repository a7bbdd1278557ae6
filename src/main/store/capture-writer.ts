/**
 * What capture does to the store, whichever database holds it: a watch's or a
 * subscription's rows queued in order and committed in batches, rows taken back by the chain
 * marked removed, a watch's position saved with the rows before it, and the chain tracker's
 * rows committed in the same order (CommitQueue). SQLite's EventStore (event-store.ts) and
 * PostgreSQL's PostgresCaptureWriter (postgres/capture-writer.ts) implement it with the same
 * semantics; capture-writer.test.ts runs one suite against both.
 *
 * The semantics both keep: one batch in flight at a time, in one transaction, the next
 * queued behind it; a failed batch keeps its rows, in order, and is retried with backoff
 * (storage-health.ts retryDelay), nothing lost; past `maxHeldWrites` held the owner is told
 * to stop producing (onBacklog); `onCommitted` tells what each batch added.
 */
import type { NormalizedEvent } from './captured-event'
import type { ChainLog } from './chain-store'
import { pushChainLogRow, type CommitQueue } from './chain-writes'
import { encodeRawLog } from './raw-log'
import type { FlatOps } from './sqlite-writer'

export interface EventsCommitted {
  connectionId: number
  lastId: number
  count: number
  /** New events per stream in this batch, for subscription counters. */
  perStream: Map<number, number>
}

export interface CaptureWriterOptions {
  flushIntervalMs?: number
  maxBatch?: number
  onCommitted?: (batches: EventsCommitted[]) => void
  /** A batch failed; everything stays queued and is retried in `retryInMs` (backoff). */
  onError?: (error: Error, retry: { pendingWrites: number; retryInMs: number }) => void
  /**
   * Writes held in memory reached `maxHeldWrites` (true), or were all stored again (false).
   * Nothing is dropped: the owner stops producing (engine.ts).
   */
  onBacklog?: (full: boolean, held: number) => void
  /** Default MAX_HELD_WRITES. */
  maxHeldWrites?: number
}

/** Who waits for queued rows to commit (enqueueCommitted). */
export interface Waiter {
  resolve: () => void
  reject: (error: Error) => void
}

export interface CaptureWriter extends CommitQueue {
  /** A captured event with its own columns (the notification path, heads, pending transactions). */
  enqueue(connectionId: number, streamId: number, event: NormalizedEvent, receivedAt?: number): void
  /**
   * A log a watch delivered: stored once, in chain_logs, and an events row for the stream's
   * membership that points at it by (connection, block hash, log index). `stored`: the
   * tracker's chain_logs row exists; otherwise it is written in the same batch (a no-op if
   * it exists after all).
   */
  enqueueLog(connectionId: number, streamId: number, log: ChainLog, stored: boolean, receivedAt?: number): void
  /** A watch took back a delivered log (or head, `logIndex` null): its row is marked removed. */
  enqueueRemoved(streamId: number, blockHash: string, logIndex: number | null): void
  /** Blocks that left the canonical chain: every stored log and head of them is marked removed. */
  enqueueOrphaned(connectionId: number, blockHashes: string[]): void
  /** A watch processed every block up to this one: saved with the rows queued before it. */
  enqueueCursor(subscriptionId: number, number: number, hash: string): void
  /** Writes queued but not yet committed (queued plus the batch in flight). */
  readonly pendingCount: number
  /** True while commits fail and a retry is due. */
  readonly failing: boolean
  /**
   * Resolves once everything queued so far has been tried: committed, or failed and held for
   * the retry. While failing it resolves at once (readers get what is committed; the retry
   * timer, not every reader, tries again).
   */
  settle(): Promise<void>
  /**
   * Commits what is queued (one last attempt even while failing), then stops; whoever waits
   * for rows still uncommitted is rejected. SQLite's returns at once; PostgreSQL's once its
   * last batch is answered: await it either way.
   */
  close(): void | Promise<void>
}

/** The capture statements of a batch (FlatOps), by index; the chain tracker's follow them (chain-writes.ts CHAIN_WRITE). */
export const CAPTURE_WRITE = {
  /** An events row: connection, stream, kind, block number and hash, tx hash and index, log index, address, topics, data, removed (0/1), payload, received at. */
  event: 0,
  /** Stream, block hash, log index (-1 for a head). */
  removed: 1,
  /** Connection, the block hashes as a JSON array. */
  orphaned: 2,
  /** Block number, block hash, subscription. */
  subscriptionCursor: 3,
  /** A chain_logs row written by capture (ON CONFLICT DO NOTHING): connection, block hash and number, log index, tx hash and index, address, topics, data, raw log. */
  log: 4,
} as const

/** Parameters of each capture statement, by CAPTURE_WRITE index (each backend checks its SQL against them). */
export const CAPTURE_WRITE_PARAMETERS = [14, 3, 2, 3, 10] as const

export const DEFAULT_EVENT_BATCH = 5_000
/** Batches that may queue behind the one being committed before enqueue() waits (where the backend can wait: SQLite's writer thread). */
export const MAX_QUEUED_BATCHES = 4
/**
 * Writes held in memory while the store refuses them (locked, full) before the owner is
 * told to stop capture: about 200 MB of mainnet logs with their payloads.
 */
export const MAX_HELD_WRITES = 200_000

/** Queues a captured event with its own columns (CAPTURE_WRITE.event), as both backends store it. */
export function pushEvent(ops: FlatOps, connectionId: number, streamId: number, e: NormalizedEvent, receivedAt: number): void {
  ops.push(
    CAPTURE_WRITE.event,
    connectionId,
    streamId,
    e.kind,
    e.blockNumber,
    e.blockHash,
    e.transactionHash,
    e.transactionIndex,
    e.logIndex,
    e.address,
    e.topics.length > 0 ? e.topics.join(',') : null,
    e.data,
    e.removed ? 1 : 0,
    e.payload === null ? null : e.kind === 'log' ? encodeRawLog(e, e.payload) : JSON.stringify(e.payload),
    receivedAt,
  )
}

/**
 * Queues a watch's log: its chain_logs row unless the tracker stored it (`stored`), then the
 * events row pointing at it. Returns how many statements were queued.
 */
export function pushLog(ops: FlatOps, connectionId: number, streamId: number, log: ChainLog, stored: boolean, receivedAt: number): number {
  if (!stored) pushChainLogRow(ops, CAPTURE_WRITE.log, connectionId, log)
  ops.push(CAPTURE_WRITE.event, connectionId, streamId, 'log', log.blockNumber, log.blockHash, null, null, log.logIndex, null, null, null, 0, null, receivedAt)
  return stored ? 1 : 2
}
