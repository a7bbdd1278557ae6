/**
 * Chain heads for the charts: one slim row per head (the raw header is kept once, by the
 * chain tracker in chain_blocks), written by one batching writer, read in pages for the UI.
 * The writer queues rows and commits them in one transaction per flush, so the socket's
 * message handler never waits on the disk.
 */
import type { Head } from '../../shared/contract'
import { ungated, type Db, type WriteGate } from './database'
import { retryDelay } from './storage-health'

export interface NewHead {
  connectionId: number
  number: number
  hash: string
  parentHash: string
  timestamp: number
  gasUsed: string
  gasLimit: string
  baseFeePerGas: string | null
  txCount: number | null
  receivedAt: number
}

/** A heads row as either backend reads it (HEAD_COLUMNS). */
export interface HeadRow {
  id: number
  connection_id: number
  number: number
  hash: string
  parent_hash: string
  timestamp: number
  gas_used: string
  gas_limit: string
  base_fee_per_gas: string | null
  tx_count: number | null
  received_at: number
}

/** The columns of a head as `list` and `latest` read them, in either backend. */
export const HEAD_COLUMNS = 'id, connection_id, number, hash, parent_hash, timestamp, gas_used, gas_limit, base_fee_per_gas, tx_count, received_at'

export interface HeadsCommitted {
  connectionId: number
  lastId: number
  count: number
}

export interface HeadWriterOptions {
  /** Commit at most this long after the first queued row. */
  flushIntervalMs?: number
  /** Commit at once when this many rows wait. */
  maxBatch?: number
  onCommitted?: (batches: HeadsCommitted[]) => void
  /** A commit failed; the rows stay queued and are retried in `retryInMs` (backoff). */
  onError?: (error: Error, retry: { pendingWrites: number; retryInMs: number }) => void
  /** Commits wait for the events writer thread to be idle (tidewatch-store.ts). */
  writeGate?: WriteGate
  /** Timed commits run when the events writer thread is idle, rather than waiting for it (EventStore.whenIdle). */
  whenWriterIdle?: (run: () => void) => void
}

export class HeadStore {
  private queue: NewHead[] = []
  private txCountUpdates: { connectionId: number; hash: string; txCount: number }[] = []
  private timer: NodeJS.Timeout | null = null
  private failures = 0
  private readonly insert
  private readonly updateTxCount
  private readonly flushIntervalMs: number
  private readonly maxBatch: number

  constructor(
    private readonly db: Db,
    private readonly options: HeadWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50
    this.maxBatch = options.maxBatch ?? 1000
    // A head seen twice (a resubscription, a repeated notification) is stored once.
    this.insert = db.prepare(`INSERT INTO heads
      (connection_id, number, hash, parent_hash, timestamp, gas_used, gas_limit, base_fee_per_gas, tx_count, received_at)
      VALUES (@connectionId, @number, @hash, @parentHash, @timestamp, @gasUsed, @gasLimit, @baseFeePerGas, @txCount, @receivedAt)
      ON CONFLICT (connection_id, hash) DO NOTHING`)
    this.updateTxCount = db.prepare('UPDATE heads SET tx_count = @txCount WHERE connection_id = @connectionId AND hash = @hash')
  }

  enqueue(head: NewHead): void {
    this.queue.push(head)
    this.schedule()
  }

  /** Transaction counts arrive after the header (newHeads does not carry them). */
  enqueueTxCount(connectionId: number, hash: string, txCount: number): void {
    this.txCountUpdates.push({ connectionId, hash, txCount })
    this.schedule()
  }

  get pendingCount(): number {
    return this.queue.length + this.txCountUpdates.length
  }

  /** Commits everything queued; called by the timer and on shutdown. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.queue.length === 0 && this.txCountUpdates.length === 0) return
    const heads = this.queue
    const counts = this.txCountUpdates
    const committed = new Map<number, HeadsCommitted>()
    const gate = this.options.writeGate ?? ungated
    try {
      gate(
        this.db.transaction(() => {
          for (const head of heads) {
            const result = this.insert.run(head)
            if (result.changes === 0) continue
            const entry = committed.get(head.connectionId) ?? { connectionId: head.connectionId, lastId: 0, count: 0 }
            entry.lastId = Number(result.lastInsertRowid)
            entry.count += 1
            committed.set(head.connectionId, entry)
          }
          for (const update of counts) {
            if (this.updateTxCount.run(update).changes === 0) continue
            if (!committed.has(update.connectionId))
              committed.set(update.connectionId, { connectionId: update.connectionId, lastId: this.lastId(update.connectionId), count: 0 })
          }
        }),
      )
    } catch (error) {
      // Keep the rows: a full or locked disk must not lose what was captured. Retry later.
      const retryInMs = retryDelay(this.failures++)
      this.timer = setTimeout(() => this.flushWhenIdle(), retryInMs)
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)), { pendingWrites: this.pendingCount, retryInMs })
      return
    }
    this.failures = 0
    this.queue = []
    this.txCountUpdates = []
    if (committed.size > 0) this.options.onCommitted?.([...committed.values()])
  }

  /** flush(), for callers that hold heads of either backend. */
  settle(): Promise<void> {
    this.flush()
    return Promise.resolve()
  }

  list(query: { connectionId?: number | undefined; limit: number; beforeId?: number | undefined }): Head[] {
    const rows = this.db
      .prepare(
        `SELECT ${HEAD_COLUMNS}
         FROM heads
         WHERE (@connectionId IS NULL OR connection_id = @connectionId) AND (@beforeId IS NULL OR id < @beforeId)
         ORDER BY id DESC LIMIT @limit`,
      )
      .all({ connectionId: query.connectionId ?? null, beforeId: query.beforeId ?? null, limit: query.limit }) as HeadRow[]
    return rows.map(toHead)
  }

  latest(connectionId: number): Head | undefined {
    const row = this.db
      .prepare(
        `SELECT ${HEAD_COLUMNS}
         FROM heads WHERE connection_id = ? ORDER BY number DESC, id DESC LIMIT 1`,
      )
      .get(connectionId) as HeadRow | undefined
    return row ? toHead(row) : undefined
  }

  deleteForConnection(connectionId: number): void {
    this.db.prepare('DELETE FROM heads WHERE connection_id = ?').run(connectionId)
  }

  private lastId(connectionId: number): number {
    const row = this.db.prepare('SELECT MAX(id) AS id FROM heads WHERE connection_id = ?').get(connectionId) as { id: number | null }
    return row.id ?? 0
  }

  private schedule(): void {
    if (this.queue.length >= this.maxBatch) {
      this.flush()
      return
    }
    if (!this.timer) this.timer = setTimeout(() => this.flushWhenIdle(), this.flushIntervalMs)
  }

  /** The timer's commit: once the events writer has nothing in flight, so the main thread does not wait for it. */
  private flushWhenIdle(): void {
    this.timer = null
    const idle = this.options.whenWriterIdle
    if (idle) idle(() => this.flush())
    else this.flush()
  }
}

export function toHead(row: HeadRow): Head {
  return {
    id: row.id,
    connectionId: row.connection_id,
    number: row.number,
    hash: row.hash,
    parentHash: row.parent_hash,
    timestamp: row.timestamp,
    gasUsed: row.gas_used,
    gasLimit: row.gas_limit,
    baseFeePerGas: row.base_fee_per_gas,
    txCount: row.tx_count,
    receivedAt: row.received_at,
  }
}
