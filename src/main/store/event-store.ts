/**
 * Captured events of every subscription type. One writer queues rows and commits them in
 * one transaction per batch (off the socket's hot path); readers page newest-first.
 */
import type { CapturedEvent, EventKind } from '../../shared/contract'
import type { NormalizedEvent } from '../subscriptions/captured-event'
import { logPayload } from '../subscriptions/normalize'
import type { Db } from './database'

export interface EventsCommitted {
  connectionId: number
  lastId: number
  count: number
  /** New events per stream in this batch, for subscription counters. */
  perStream: Map<number, number>
}

type QueuedEvent =
  | { op: 'insert'; connectionId: number; streamId: number; event: NormalizedEvent; receivedAt: number }
  /** A watch took back a delivered log or head (reorg): mark the stored row removed. */
  | { op: 'remove'; streamId: number; blockHash: string; logIndex: number | null }
  /** Blocks that left the canonical chain: every stored log and head of them is marked removed. */
  | { op: 'orphan'; connectionId: number; blockHashes: string[] }
  /** A watch processed every block up to this one: persisted with the events before it. */
  | { op: 'cursor'; subscriptionId: number; number: number; hash: string }

export interface EventQuery {
  connectionId?: number | undefined
  streamIds?: number[] | undefined
  kind?: EventKind | undefined
  limit: number
  beforeId?: number | undefined
  afterId?: number | undefined
  fromBlock?: number | undefined
  toBlock?: number | undefined
  /** topic0 values (event selectors) to match. */
  selectors?: string[] | undefined
  address?: string | undefined
  text?: string | undefined
}

interface EventRow {
  id: number
  connection_id: number
  stream_id: number
  kind: EventKind
  block_number: number | null
  block_hash: string | null
  tx_hash: string | null
  tx_index: number | null
  log_index: number | null
  address: string | null
  topics: string | null
  data: string | null
  removed: number
  payload: string | null
  received_at: number
}

export interface EventWriterOptions {
  flushIntervalMs?: number
  maxBatch?: number
  onCommitted?: (batches: EventsCommitted[]) => void
  onError?: (error: Error) => void
}

export class EventStore {
  private queue: QueuedEvent[] = []
  private timer: NodeJS.Timeout | null = null
  private readonly insert
  private readonly markRemoved
  private readonly markOrphaned
  private readonly saveCursor
  private readonly flushIntervalMs: number
  private readonly maxBatch: number

  constructor(
    private readonly db: Db,
    private readonly options: EventWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50
    this.maxBatch = options.maxBatch ?? 5_000
    this.markRemoved = db.prepare('UPDATE events SET removed = 1 WHERE stream_id = ? AND block_hash = ? AND COALESCE(log_index, -1) = ? AND removed = 0')
    this.markOrphaned = db.prepare(
      "UPDATE events SET removed = 1 WHERE connection_id = ? AND kind IN ('log', 'head') AND removed = 0 AND block_hash IN (SELECT value FROM json_each(?))",
    )
    this.saveCursor = db.prepare('UPDATE subscriptions SET cursor_number = ?, cursor_hash = ? WHERE id = ?')
    // OR IGNORE: a watch resuming after a crash may deliver a block again; the unique index keeps one copy.
    this.insert = db.prepare(`INSERT OR IGNORE INTO events
      (connection_id, stream_id, kind, block_number, block_hash, tx_hash, tx_index, log_index, address, topics, data, removed, payload, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  }

  enqueue(connectionId: number, streamId: number, event: NormalizedEvent, receivedAt = Date.now()): void {
    this.push({ op: 'insert', connectionId, streamId, event, receivedAt })
  }

  enqueueRemoved(streamId: number, blockHash: string, logIndex: number | null): void {
    this.push({ op: 'remove', streamId, blockHash, logIndex })
  }

  enqueueOrphaned(connectionId: number, blockHashes: string[]): void {
    this.push({ op: 'orphan', connectionId, blockHashes })
  }

  enqueueCursor(subscriptionId: number, number: number, hash: string): void {
    this.push({ op: 'cursor', subscriptionId, number, hash })
  }

  private push(entry: QueuedEvent): void {
    this.queue.push(entry)
    if (this.queue.length >= this.maxBatch) this.flush()
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushIntervalMs)
  }

  get pendingCount(): number {
    return this.queue.length
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.queue.length === 0) return
    const batch = this.queue
    const committed = new Map<number, EventsCommitted>()
    try {
      this.db.transaction(() => {
        for (const entry of batch) {
          if (entry.op === 'remove') {
            this.markRemoved.run(entry.streamId, entry.blockHash, entry.logIndex ?? -1)
            continue
          }
          if (entry.op === 'orphan') {
            this.markOrphaned.run(entry.connectionId, JSON.stringify(entry.blockHashes))
            continue
          }
          if (entry.op === 'cursor') {
            this.saveCursor.run(entry.number, entry.hash, entry.subscriptionId)
            continue
          }
          const { connectionId, streamId, event: e, receivedAt } = entry
          const result = this.insert.run(
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
            e.payload === null ? null : JSON.stringify(e.payload),
            receivedAt,
          )
          if (result.changes === 0) continue
          let batchEntry = committed.get(connectionId)
          if (!batchEntry) committed.set(connectionId, (batchEntry = { connectionId, lastId: 0, count: 0, perStream: new Map() }))
          batchEntry.lastId = Number(result.lastInsertRowid)
          batchEntry.count += 1
          batchEntry.perStream.set(streamId, (batchEntry.perStream.get(streamId) ?? 0) + 1)
        }
      })()
    } catch (error) {
      // Keep everything queued: a full or locked disk must not lose captured events.
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)))
      this.timer = setTimeout(() => this.flush(), 1_000)
      return
    }
    this.queue = []
    this.options.onCommitted?.([...committed.values()])
  }

  list(query: EventQuery): (Omit<CapturedEvent, 'subscriptionIds' | 'irreversible' | 'decoded'> & { streamId: number })[] {
    const text = query.text ? `%${query.text.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%` : null
    const rows = this.db
      .prepare(
        `SELECT * FROM events
         WHERE (@connectionId IS NULL OR connection_id = @connectionId)
           AND (@streams IS NULL OR stream_id IN (SELECT value FROM json_each(@streams)))
           AND (@kind IS NULL OR kind = @kind)
           AND (@beforeId IS NULL OR id < @beforeId)
           AND (@afterId IS NULL OR id > @afterId)
           AND (@fromBlock IS NULL OR block_number >= @fromBlock)
           AND (@toBlock IS NULL OR block_number <= @toBlock)
           AND (@selectors IS NULL OR substr(topics, 1, 66) IN (SELECT value FROM json_each(@selectors)))
           AND (@address IS NULL OR address = @address
                OR lower(json_extract(payload, '$.from')) = @address
                OR lower(json_extract(payload, '$.transaction.from')) = @address
                OR lower(json_extract(payload, '$.transaction.to')) = @address)
           AND (@text IS NULL OR tx_hash LIKE @text ESCAPE '\\' OR block_hash LIKE @text ESCAPE '\\' OR address LIKE @text ESCAPE '\\'
                OR topics LIKE @text ESCAPE '\\' OR lower(data) LIKE @text ESCAPE '\\' OR lower(payload) LIKE @text ESCAPE '\\')
         ORDER BY id DESC LIMIT @limit`,
      )
      .all({
        connectionId: query.connectionId ?? null,
        streams: query.streamIds ? JSON.stringify(query.streamIds) : null,
        kind: query.kind ?? null,
        beforeId: query.beforeId ?? null,
        afterId: query.afterId ?? null,
        fromBlock: query.fromBlock ?? null,
        toBlock: query.toBlock ?? null,
        selectors: query.selectors ? JSON.stringify(query.selectors) : null,
        address: query.address ?? null,
        text,
        limit: query.limit,
      }) as EventRow[]
    return rows.map(toEvent)
  }

  /** Rows for an export, oldest first, without holding them all: constant memory for millions. */
  iterate(query: Omit<EventQuery, 'limit' | 'beforeId' | 'afterId' | 'text' | 'selectors' | 'address'> & { fromTime?: number | undefined; toTime?: number | undefined }): {
    total: number
    rows: IterableIterator<Omit<CapturedEvent, 'subscriptionIds' | 'irreversible' | 'decoded'> & { streamId: number }>
  } {
    const where = `WHERE (@connectionId IS NULL OR connection_id = @connectionId)
      AND (@streams IS NULL OR stream_id IN (SELECT value FROM json_each(@streams)))
      AND (@kind IS NULL OR kind = @kind)
      AND (@fromBlock IS NULL OR block_number >= @fromBlock)
      AND (@toBlock IS NULL OR block_number <= @toBlock)
      AND (@fromTime IS NULL OR received_at >= @fromTime)
      AND (@toTime IS NULL OR received_at <= @toTime)`
    const params = {
      connectionId: query.connectionId ?? null,
      streams: query.streamIds ? JSON.stringify(query.streamIds) : null,
      kind: query.kind ?? null,
      fromBlock: query.fromBlock ?? null,
      toBlock: query.toBlock ?? null,
      fromTime: query.fromTime ?? null,
      toTime: query.toTime ?? null,
    }
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM events ${where}`).get(params) as { n: number }).n
    const statement = this.db.prepare(`SELECT * FROM events ${where} ORDER BY id`)
    const source = statement.iterate(params) as IterableIterator<EventRow>
    function* mapped() {
      for (const row of source) yield toEvent(row)
    }
    return { total, rows: mapped() }
  }

  countByStream(): Map<number, { count: number; lastAt: number | null }> {
    const rows = this.db.prepare('SELECT stream_id, COUNT(*) AS n, MAX(received_at) AS last FROM events GROUP BY stream_id').all() as { stream_id: number; n: number; last: number | null }[]
    return new Map(rows.map((r) => [r.stream_id, { count: r.n, lastAt: r.last }]))
  }

  deleteForConnection(connectionId: number): void {
    this.db.prepare('DELETE FROM events WHERE connection_id = ?').run(connectionId)
  }
}

function toEvent(row: EventRow): Omit<CapturedEvent, 'subscriptionIds' | 'irreversible' | 'decoded'> & { streamId: number } {
  const topics = row.topics ? row.topics.split(',') : []
  const base = {
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    transactionHash: row.tx_hash,
    transactionIndex: row.tx_index,
    logIndex: row.log_index,
    address: row.address,
    topics,
    data: row.data,
    removed: row.removed === 1,
  }
  return {
    id: row.id,
    connectionId: row.connection_id,
    streamId: row.stream_id,
    kind: row.kind,
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    transactionHash: row.tx_hash,
    logIndex: row.log_index,
    address: row.address,
    topics,
    data: row.data,
    removed: row.removed === 1,
    payload: row.kind === 'log' && row.payload === null ? logPayload(base) : row.payload === null ? null : (JSON.parse(row.payload) as unknown),
    receivedAt: row.received_at,
  }
}
