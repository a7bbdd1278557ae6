/**
 * Captured events of every subscription type. Writes are queued and committed in one
 * transaction per batch by a SQLite writer thread (sqlite-writer.ts), so capture parses
 * the next notifications while the last batch commits; readers page newest-first on the
 * main connection, after `flush()` when they must see everything queued.
 */
import {
  CAPTURE_WRITE,
  CAPTURE_WRITE_PARAMETERS,
  DEFAULT_EVENT_BATCH,
  MAX_HELD_WRITES,
  MAX_QUEUED_BATCHES,
  pushEvent,
  pushLog,
  type CaptureWriter,
  type CaptureWriterOptions,
  type EventsCommitted,
  type Waiter,
} from './capture-writer'
import type { NormalizedEvent } from './captured-event'
import type { ChainLog } from './chain-store'
import { CAPTURE_STATEMENTS, CHAIN_WRITE_STATEMENTS } from './chain-writes'
import { preparedOnce, type Db } from './database'
import {
  blockRange,
  completePage,
  eventColumns,
  EVENTS_WITH_LOGS,
  FEW_ROWS,
  key,
  LOG_JOIN,
  PAYLOAD_ADDRESSES,
  searchBySlices,
  TEXT_FIELDS,
  textPattern,
  toEvent,
  type EventQuery,
  type EventRow,
  type ExportQuery,
  type ListedEvent,
  type SearchOptions,
  type SearchPage,
  type SliceQuery,
  type StoredEventRow,
} from './event-query'
import { createSqliteWriter, parameterCount, type BatchResult, type FlatOps, type SqliteWriter } from './sqlite-writer'
import { retryDelay } from './storage-health'

export type { EventsCommitted } from './capture-writer'
export { DEFAULT_EVENT_BATCH, MAX_HELD_WRITES } from './capture-writer'
export { storedRow, type EventQuery, type ExportQuery, type ListedEvent, type SearchOptions, type SearchPage, type StoredEventRow } from './event-query'

/** onBacklog: here the held writes can reach the bound only while commits fail (enqueue waits for the writer thread otherwise). */
export interface EventWriterOptions extends CaptureWriterOptions {
  /** The better-sqlite3 addon the writer thread loads (the Electron-ABI copy in the app). */
  nativeBinding?: string | undefined
}

/** The statements of the write path, by their index in a batch (FlatOps). */
const INSERT = CAPTURE_WRITE.event
const MARK_REMOVED = CAPTURE_WRITE.removed
const MARK_ORPHANED = CAPTURE_WRITE.orphaned
const SAVE_CURSOR = CAPTURE_WRITE.subscriptionCursor

// OR IGNORE: a watch resuming after a crash may deliver a block again; the unique index keeps one copy.
export const INSERT_EVENT_SQL = `INSERT OR IGNORE INTO events
  (connection_id, stream_id, kind, block_number, block_hash, tx_hash, tx_index, log_index, address, topics, data, removed, payload, received_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

export const EVENT_WRITE_STATEMENTS = [
  INSERT_EVENT_SQL,
  // A watch took back a delivered log or head (reorg): mark the stored row removed (`kind IN` lets SQLite use the partial unique index).
  "UPDATE events SET removed = 1 WHERE stream_id = ? AND block_hash = ? AND COALESCE(log_index, -1) = ? AND kind IN ('log', 'head') AND removed = 0",
  // Blocks that left the canonical chain: every stored log and head of them is marked removed.
  "UPDATE events SET removed = 1 WHERE connection_id = ? AND kind IN ('log', 'head') AND removed = 0 AND block_hash IN (SELECT value FROM json_each(?))",
  // A watch processed every block up to this one: persisted with the events before it.
  'UPDATE subscriptions SET cursor_number = ?, cursor_hash = ? WHERE id = ?',
  // A captured log is stored once, in chain_logs (the tracker's row when it has one); the events row points at it.
  `INSERT INTO chain_logs (connection_id, block_hash, block_number, log_index, tx_hash, tx_index, address, topics, data, canonical, raw_json)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (connection_id, block_hash, log_index) DO NOTHING`,
  // The tracker's rows (ChainStore), in the same batches: see `enqueueCommitted`.
  ...CHAIN_WRITE_STATEMENTS,
] as const
if (EVENT_WRITE_STATEMENTS.length !== CAPTURE_STATEMENTS + CHAIN_WRITE_STATEMENTS.length) throw new Error('chain-writes.ts: CAPTURE_STATEMENTS is out of date')
if (CAPTURE_WRITE_PARAMETERS.some((count, index) => parameterCount(EVENT_WRITE_STATEMENTS[index]!) !== count))
  throw new Error('capture-writer.ts: CAPTURE_WRITE_PARAMETERS does not match the SQL')

/** A batch handed to the writer: its ops, how many statements, and who waits for its commit. */
interface Batch {
  ops: FlatOps
  count: number
  waiters: Waiter[]
}

const PARAMETER_COUNTS = EVENT_WRITE_STATEMENTS.map(parameterCount)

export class EventStore implements CaptureWriter {
  /** Queued writes, not yet handed to the writer: FlatOps and how many statements they hold. */
  private ops: FlatOps = []
  private opCount = 0
  /** Waiting for the queued writes to commit (enqueueCommitted). */
  private waiters: Waiter[] = []
  private closed = false
  /** Set while a batch is with the writer. One at a time: a failed batch is retried before anything after it. */
  private inFlight: Batch | null = null
  private timer: NodeJS.Timeout | null = null
  /** After a failed commit, the timer retries (backoff); queued rows wait for it. */
  private retrying = false
  private failures = 0
  private backlogFull = false
  /** Main-thread writes running through exclusive(): no batch goes to the writer meanwhile. */
  private holding = 0
  private readonly writer: SqliteWriter
  private readonly flushIntervalMs: number
  private readonly maxBatch: number
  /** Prepared once per distinct filter shape: the live log asks for the same pages many times a second. */
  private readonly statement: ReturnType<typeof preparedOnce>

  constructor(
    private readonly db: Db,
    private readonly options: EventWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50
    this.maxBatch = options.maxBatch ?? DEFAULT_EVENT_BATCH
    this.statement = preparedOnce(db)
    this.writer = createSqliteWriter({ db, statements: EVENT_WRITE_STATEMENTS, nativeBinding: options.nativeBinding })
  }

  /** 'worker' for a store file, 'inline' for an in-memory database. */
  get writerKind(): SqliteWriter['kind'] {
    return this.writer.kind
  }

  enqueue(connectionId: number, streamId: number, e: NormalizedEvent, receivedAt = Date.now()): void {
    pushEvent(this.ops, connectionId, streamId, e, receivedAt)
    this.queued()
  }

  /**
   * A log a watch delivered: stored once, in chain_logs, and an events row for the stream's
   * membership that points at it by (connection, block hash, log index). `stored`: the
   * tracker's chain_logs row exists (a live block); history from the upstream is written
   * here first, in the same batch (a no-op if the row exists after all).
   */
  enqueueLog(connectionId: number, streamId: number, log: ChainLog, stored: boolean, receivedAt = Date.now()): void {
    // queued() counts the last statement.
    this.opCount += pushLog(this.ops, connectionId, streamId, log, stored, receivedAt) - 1
    this.queued()
  }

  enqueueRemoved(streamId: number, blockHash: string, logIndex: number | null): void {
    this.ops.push(MARK_REMOVED, streamId, blockHash, logIndex ?? -1)
    this.queued()
  }

  enqueueOrphaned(connectionId: number, blockHashes: string[]): void {
    this.ops.push(MARK_ORPHANED, connectionId, JSON.stringify(blockHashes))
    this.queued()
  }

  enqueueCursor(subscriptionId: number, number: number, hash: string): void {
    this.ops.push(SAVE_CURSOR, number, hash, subscriptionId)
    this.queued()
  }

  /**
   * Rows that others wait for (the tracker's blocks, logs and cursor): queued after
   * everything queued so far, in the same batches as captured rows, and handed to the writer
   * at once. Resolves when the batch holding them commits. Nothing is lost while the store
   * refuses writes: the promise waits for the retry that succeeds.
   */
  enqueueCommitted(ops: FlatOps, count: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    for (const op of ops) this.ops.push(op)
    this.opCount += count - 1
    const committed = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
    this.queued()
    if (!this.retrying) this.dispatch('timer')
    return committed
  }

  private queued(): void {
    this.opCount += 1
    // Backpressure: capture faster than SQLite must not grow the queue without bound, so
    // past a few batches the main thread waits for the writer, as it did when it wrote.
    // Not while retrying: the batch in flight may sit out a lock's busy timeout.
    if (this.opCount >= this.maxBatch * MAX_QUEUED_BATCHES && this.inFlight && !this.retrying) this.writer.drain()
    this.checkBacklog()
    if (this.opCount >= this.maxBatch) this.dispatch('batch')
    else if (!this.timer) this.timer = setTimeout(() => this.dispatch('timer'), this.flushIntervalMs)
  }

  /** While commits fail, past `maxHeldWrites` held the owner is told to stop producing (once). */
  private checkBacklog(): void {
    if (this.retrying && !this.backlogFull && this.pendingCount >= (this.options.maxHeldWrites ?? MAX_HELD_WRITES)) {
      this.backlogFull = true
      this.options.onBacklog?.(true, this.pendingCount)
    }
  }

  /** Time the writer thread spent committing, for the ingest benchmark. */
  writerBusyMs(): number {
    return this.writer.busyMs()
  }

  /** Writes queued but not yet committed (queued plus the batch with the writer). */
  get pendingCount(): number {
    return this.opCount + (this.inFlight?.count ?? 0)
  }

  /**
   * Commits everything queued before returning (readers call this first). Failures stay
   * queued. While the store refuses writes, readers get what is committed without
   * waiting: the retry timer, not every reader, tries again, and a retry in flight may be
   * sitting out another process's lock for the writer's busy timeout.
   */
  flush(): void {
    if (this.retrying) return
    this.dispatch('flush')
    this.writer.drain()
  }

  /** flush(), for callers that hold a CaptureWriter of either backend. */
  settle(): Promise<void> {
    this.flush()
    return Promise.resolve()
  }

  /** True while commits fail and the retry timer is set. */
  get failing(): boolean {
    return this.retrying
  }

  /**
   * Runs a write on the main connection while the writer thread is idle, holding back its
   * next batch until the write is done. Without this the two connections meet at SQLite's
   * write lock, whose busy handler sleeps in growing steps (up to 100 ms) instead of waking
   * when the lock frees; drain() wakes the moment the batch commits.
   */
  exclusive<T>(write: () => T): T {
    this.holding += 1
    try {
      this.writer.drain()
      return write()
    } finally {
      this.holding -= 1
      if (this.holding === 0 && this.opCount > 0) this.dispatch('timer')
    }
  }

  /**
   * Runs `run` (a main-thread write) now if no batch is with the writer, else as soon as the
   * one in flight has committed, before the next goes: a timed write (heads) need not block
   * the main thread waiting for the writer, as exclusive() would.
   */
  whenIdle(run: () => void): void {
    if (!this.inFlight) run()
    else this.idleRuns.push(run)
  }

  private idleRuns: (() => void)[] = []

  /** Commits what is queued and stops the writer thread; the store's connection stays the caller's. */
  close(): void {
    if (this.closed) return
    // One last attempt even while failing: the cause may be gone.
    this.dispatch('flush')
    this.writer.drain()
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.writer.close()
    this.closed = true
    // Whoever waits for rows the store refused hears it now rather than never.
    const waiting = [...(this.inFlight?.waiters ?? []), ...this.waiters]
    this.waiters = []
    const error = new Error('the store closed before these rows could be committed')
    for (const waiter of waiting) waiter.reject(error)
  }

  /**
   * Hands the queue to the writer unless a batch is with it already (its reply sends the
   * next). A full batch waits while a failed one is being retried or a main-thread write
   * holds the writer; the timer waits only for the latter; flush() waits for nothing.
   */
  private dispatch(reason: 'batch' | 'timer' | 'flush'): void {
    if (reason !== 'batch' && this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.inFlight || this.opCount === 0) return
    if (reason !== 'flush' && this.holding > 0) return
    if (reason === 'batch' && this.retrying) return
    const batch: Batch = { ops: this.ops, count: this.opCount, waiters: this.waiters }
    this.ops = []
    this.opCount = 0
    this.waiters = []
    this.inFlight = batch
    this.writer.submit(batch.ops, (result) => this.settled(batch, result))
  }

  private settled(batch: Batch, result: BatchResult): void {
    this.inFlight = null
    // The writer is idle now: main-thread writes that waited for it go first (whenIdle).
    const runs = this.idleRuns
    this.idleRuns = []
    for (const run of runs) run()
    if (!result.ok) {
      // Keep everything, in order: a full or locked disk must not lose captured events.
      this.ops = batch.ops.concat(this.ops)
      this.opCount += batch.count
      this.waiters = batch.waiters.concat(this.waiters)
      this.retrying = true
      if (this.timer) clearTimeout(this.timer)
      const retryInMs = retryDelay(this.failures++)
      this.timer = setTimeout(() => this.dispatch('timer'), retryInMs)
      this.options.onError?.(result.error, { pendingWrites: this.pendingCount, retryInMs })
      // A burst queued before the first failure is held too: it may be past the bound already.
      this.checkBacklog()
      return
    }
    this.retrying = false
    this.failures = 0
    const committed = summarize(batch.ops, result.results)
    // Rows that queued up while this batch committed go next, at once.
    if (this.opCount > 0) this.dispatch('timer')
    if (this.backlogFull && this.pendingCount < this.maxBatch) {
      this.backlogFull = false
      this.options.onBacklog?.(false, this.pendingCount)
    }
    this.options.onCommitted?.(committed)
    for (const waiter of batch.waiters) waiter.resolve()
  }

  /**
   * A page of events, newest first. Only the filters given become SQL conditions: an
   * `(@x IS NULL OR …)` form would hide the id range and the stream index from SQLite's
   * planner, which then reads the whole table for every page (measured on 1M rows: 197 ms
   * for a page of new rows, against under 1 ms with the range; bench/live-log.bench.ts).
   *
   * How the rows are found: a block range, an address or an event (topic0) that few rows
   * match (counted through its index, up to FEW_ROWS) gives the candidate rows, which the
   * page sorts by id after checking every condition on them; otherwise ids are walked newest
   * first, which stops at the page's last row, fast when many rows match.
   */
  list(query: EventQuery): ListedEvent[] {
    // No known event has this name: no row can match, and finding that out would read every row.
    if (query.selectors?.length === 0) return []
    return this.page(query, this.fewCandidates(query))
  }

  /**
   * A page of events like `list`'s that reads for about `budgetMs` at most (searchBySlices):
   * when no index narrows the query to few rows, ids are read a slice at a time, and a page
   * whose time runs out holds what it found with `next` to go on from. The live log's pages.
   */
  search(query: EventQuery, options?: SearchOptions): Promise<SearchPage> {
    if (query.selectors?.length === 0) return Promise.resolve({ rows: [], next: null })
    const few = this.fewCandidates(query)
    if (few !== null) return Promise.resolve(completePage(query, this.page(query, few)))
    // A wide range below the newest block: the slices start at its newest row, not at the store's.
    const range = blockRange(query)
    const top = Math.min(this.lastId(), (range && this.rangeTop(range)) ?? Number.MAX_SAFE_INTEGER)
    return searchBySlices(query, top + 1, (slice) => this.page(slice, null), options)
  }

  /** The newest row's id in a block range that ends below the newest block (0: none); null when the range reaches it. */
  private rangeTop(range: { fromBlock: number; toBlock: number }): number | null {
    const newest = this.statement('SELECT MAX(block_number) FROM events').pluck().get() as number | null
    if (newest === null || range.toBlock >= newest) return null
    const top = this.statement('SELECT MAX(id) FROM events INDEXED BY events_by_block WHERE block_number BETWEEN @fromBlock AND @toBlock').pluck().get(range)
    return (top as number | null) ?? 0
  }

  /** The rows of a page, found through `few`'s index or by a walk of ids. */
  private page(query: SliceQuery, few: { filter: Filter; sql: string } | null): ListedEvent[] {
    const conditions: Condition[] = []
    const params: Record<string, string | number> = { limit: query.limit }
    const add = (sql: string, values: Record<string, string | number>, found: Condition['found'] = null, readsLog = false): void => {
      conditions.push({ sql, found, readsLog })
      Object.assign(params, values)
    }
    if (query.connectionId !== undefined) add('e.connection_id = @connectionId', { connectionId: query.connectionId })
    // One stream walks its index in id order. Several would make SQLite sort every match
    // of the index to find the newest, so they filter a walk of the id range instead (+).
    if (query.streamIds?.length === 1) add('e.stream_id = @stream', { stream: query.streamIds[0]! })
    else if (query.streamIds !== undefined) add('+e.stream_id IN (SELECT value FROM json_each(@streams))', { streams: JSON.stringify(query.streamIds) })
    if (query.kind !== undefined) add('e.kind = @kind', { kind: query.kind })
    if (query.beforeId !== undefined) add('e.id < @beforeId', { beforeId: query.beforeId }, 'id')
    if (query.afterId !== undefined) add('e.id > @afterId', { afterId: query.afterId }, 'id')
    if (query.floorId !== undefined) add('e.id >= @floorId', { floorId: query.floorId }, 'id')
    const range = blockRange(query)
    if (range) add('+e.block_number BETWEEN @fromBlock AND @toBlock', range, 'range')
    if (query.selectors !== undefined) {
      add(
        'substr(COALESCE(e.topics, l.topics), 1, 66) IN (SELECT value FROM json_each(@selectors))',
        { selectors: JSON.stringify(query.selectors) },
        'selectors',
        true,
      )
    }
    if (query.address !== undefined) add(ADDRESS_MATCH, { address: query.address }, 'address', true)
    if (query.text) add(TEXT_MATCH, { text: textPattern(query.text) }, null, true)
    const whereOf = (list: Condition[]): string => (list.length > 0 ? `WHERE ${list.map((c) => c.sql).join(' AND ')}` : '')
    // afterId pages forward (contract.ts): the rows just above it, handed back newest first like every page.
    const order = query.afterId !== undefined ? 'ASC' : 'DESC'
    let sql: string
    if (few !== null) {
      // The candidates match their filter exactly; the id bounds are applied here, and the other
      // conditions checked on them newest first (oldest first after afterId), a chunk at a time,
      // until the page is full: rows are looked up for the page, not for every candidate.
      const ascending = query.afterId !== undefined
      const ids = (this.statement(few.sql).pluck().all(params) as number[])
        .filter(
          (id) =>
            (query.beforeId === undefined || id < query.beforeId) &&
            (query.afterId === undefined || id > query.afterId) &&
            (query.floorId === undefined || id >= query.floorId),
        )
        .sort((a, b) => (ascending ? a - b : b - a))
      const rest = conditions.filter((c) => c.found !== few.filter && c.found !== 'id')
      let page = ids.slice(0, query.limit)
      if (rest.length > 0) {
        const join = rest.some((c) => c.readsLog) ? LOG_JOIN : ''
        // CROSS JOIN: the given ids are read by rowid, SQLite must not walk an index of its choosing instead.
        const check = this.statement(`SELECT e.id FROM json_each(@ids) c CROSS JOIN events e ON e.id = c.value ${join} ${whereOf(rest)}`).pluck()
        page = []
        const chunk = Math.max(2 * query.limit, 100)
        for (let i = 0; i < ids.length && page.length < query.limit; i += chunk) {
          const some = ids.slice(i, i + chunk)
          const passed = new Set(check.all({ ...params, ids: JSON.stringify(some) }) as number[])
          for (const id of some) if (passed.has(id) && page.length < query.limit) page.push(id)
        }
      }
      sql = `SELECT ${EVENT_COLUMNS} FROM ${EVENTS_WITH_LOGS} WHERE e.id IN (SELECT value FROM json_each(@page)) ORDER BY e.id DESC`
      params.page = JSON.stringify(page)
    } else {
      // A wide range below the newest block: the walk starts at its newest row, not at the store's.
      const top = range ? this.rangeTop(range) : null
      if (top !== null) add('e.id <= @rangeTop', { rangeTop: top })
      const filtered = `SELECT ${EVENT_COLUMNS} FROM ${EVENTS_WITH_LOGS} ${whereOf(conditions)}`
      sql = order === 'ASC' ? `SELECT * FROM (${filtered} ORDER BY e.id ASC LIMIT @limit) ORDER BY id DESC` : `${filtered} ORDER BY e.id DESC LIMIT @limit`
    }
    return (this.statement(sql).all(params) as EventRow[]).map(toEvent)
  }

  /**
   * The narrowest of the query's block range, address and event when it matches at most
   * FEW_ROWS rows (counted through its indexes, each count stopping past FEW_ROWS), with the
   * SQL of the ids of exactly its rows; null when none is that narrow.
   */
  private fewCandidates(query: EventQuery): { filter: Filter; sql: string } | null {
    const range = blockRange(query)
    const params = {
      ...range,
      ...(query.address !== undefined ? { address: query.address } : {}),
      ...(query.selectors !== undefined ? { selectors: JSON.stringify(query.selectors) } : {}),
    }
    let best: { filter: Filter; sql: string; rows: number } | null = null
    const consider = (filter: Filter, counts: readonly string[], sql: string): void => {
      let rows = 0
      for (const count of counts) {
        rows += this.statement(count).pluck().get(params) as number
        if (rows > FEW_ROWS) return
      }
      if (best === null || rows < best.rows) best = { filter, sql, rows }
    }
    if (range) consider('range', [FEW_IN_BLOCK_RANGE], BLOCK_RANGE_IDS)
    if (query.address !== undefined) consider('address', ADDRESS_COUNTS, ADDRESS_IDS)
    if (query.selectors !== undefined) consider('selectors', SELECTOR_COUNTS, SELECTOR_IDS)
    return best
  }

  /**
   * Rows for an export, oldest first, a page at a time: constant memory for millions. Each
   * row is the stored columns as they are (a StoredEventRow), for the export to format
   * straight from them; `storedRow` turns one into an event like `list`'s. The rows are
   * those there when the export starts (ids up to the newest then; a row retention deletes
   * meanwhile is not written). Each page is one short statement: an open one holds the
   * connection (better-sqlite3 refuses every write on a connection while a statement
   * iterates), and capture's block writes through it failed until a long export ended.
   */
  iterate(query: ExportQuery, pageRows = 500): { total: number; pages: Iterable<StoredEventRow[]> } {
    const where = `WHERE (@connectionId IS NULL OR e.connection_id = @connectionId)
      AND (@streams IS NULL OR e.stream_id IN (SELECT value FROM json_each(@streams)))
      AND (@kind IS NULL OR e.kind = @kind)
      AND (@fromBlock IS NULL OR e.block_number >= @fromBlock)
      AND (@toBlock IS NULL OR e.block_number <= @toBlock)
      AND (@fromTime IS NULL OR e.received_at >= @fromTime)
      AND (@toTime IS NULL OR e.received_at <= @toTime)`
    const params = {
      connectionId: query.connectionId ?? null,
      streams: query.streamIds ? JSON.stringify(query.streamIds) : null,
      kind: query.kind ?? null,
      fromBlock: query.fromBlock ?? null,
      toBlock: query.toBlock ?? null,
      fromTime: query.fromTime ?? null,
      toTime: query.toTime ?? null,
    }
    const { n: total, last } = this.db.prepare(`SELECT COUNT(*) AS n, COALESCE(MAX(e.id), 0) AS last FROM events e ${where}`).get(params) as {
      n: number
      last: number
    }
    // Rows as arrays (raw), columns in RAW_COLUMNS' order: no object per row with keys to look up.
    const sql = `SELECT ${EVENT_COLUMNS} FROM ${EVENTS_WITH_LOGS} ${where} AND e.id > @afterId AND e.id <= @lastId ORDER BY e.id LIMIT @limit`
    const statement = this.db.prepare(sql).raw(true)
    function* pages(): Generator<StoredEventRow[]> {
      for (let afterId = 0; ;) {
        const page = statement.all({ ...params, lastId: last, afterId, limit: pageRows }) as StoredEventRow[]
        if (page.length === 0) return
        yield page
        afterId = page[page.length - 1]![0]
      }
    }
    return { total, pages: pages() }
  }

  /**
   * Events per stream and when the newest arrived (read at every start). Counted on the stream
   * index alone; the time is the received time of each stream's newest row (rows are received
   * in id order), one index step per stream. MAX(received_at) read every row of the table
   * instead: 285-460 ms per million events against 75 ms (bench/big-store.bench.ts's store).
   */
  /** The newest row's id (0 when empty). */
  lastId(): number {
    return (this.statement('SELECT COALESCE(MAX(id), 0) FROM events').pluck().get() as number) ?? 0
  }

  /** Rows per stream with ids in (afterId, upToId]: a slice of the count at start, read by id range. */
  countByStreamBetween(afterId: number, upToId: number): Map<number, number> {
    const rows = this.statement('SELECT stream_id, COUNT(*) AS n FROM events WHERE id > ? AND id <= ? GROUP BY stream_id').all(afterId, upToId) as {
      stream_id: number
      n: number
    }[]
    return new Map(rows.map((r) => [r.stream_id, r.n]))
  }

  /** When the stream's newest row with an id up to `upToId` arrived. */
  lastAtOf(streamId: number, upToId: number): number | null {
    return (
      (this.statement('SELECT received_at FROM events WHERE stream_id = ? AND id <= ? ORDER BY id DESC LIMIT 1').pluck().get(streamId, upToId) as number) ??
      null
    )
  }

  countByStream(): Map<number, { count: number; lastAt: number | null }> {
    const rows = this.db
      .prepare(
        `SELECT s.stream_id, s.n, (SELECT received_at FROM events WHERE stream_id = s.stream_id ORDER BY id DESC LIMIT 1) AS last
         FROM (SELECT stream_id, COUNT(*) AS n FROM events GROUP BY stream_id) s`,
      )
      .all() as {
      stream_id: number
      n: number
      last: number | null
    }[]
    return new Map(rows.map((r) => [r.stream_id, { count: r.n, lastAt: r.last }]))
  }

  deleteForConnection(connectionId: number): void {
    this.db.prepare('DELETE FROM events WHERE connection_id = ?').run(connectionId)
  }
}

/** The filters whose rows an index can give (fewCandidates). */
type Filter = 'range' | 'address' | 'selectors'

/** A condition of a page: the filter its rows are found by through an index, if any, and whether it reads the log (l). */
interface Condition {
  sql: string
  /** 'id': a bound of the page's ids. */
  found: Filter | 'id' | null
  readsLog: boolean
}

/** SQL of the number of rows `sql` gives, counting no further than FEW_ROWS + 1. */
const capped = (sql: string): string => `SELECT COUNT(*) FROM (${sql} LIMIT ${FEW_ROWS + 1})`

/*
 * The ids of the rows a filter matches, read through indexes (fewCandidates): exactly those
 * rows, so a page need not check that filter again. Each is counted first, up to FEW_ROWS + 1.
 */

const BLOCK_RANGE_IDS = 'SELECT id FROM events INDEXED BY events_by_block WHERE block_number BETWEEN @fromBlock AND @toBlock'
const FEW_IN_BLOCK_RANGE = capped(BLOCK_RANGE_IDS)

/**
 * The events rows pointing at the chain_logs rows `l` that `logs` picks and `where` keeps
 * (with LOG_JOIN's condition), found through the unique index (block hash, log index) every
 * pointing row is in. `+l.log_index`: without the column's affinity, SQLite uses the index's
 * second column.
 */
const pointingAt = (logs: { from: string; where: string }, where: string): string =>
  `SELECT e.id FROM ${logs.from} CROSS JOIN events e INDEXED BY events_unique_chain
     ON e.block_hash = l.block_hash AND COALESCE(e.log_index, -1) = +l.log_index AND e.kind IN ('log', 'head')
   WHERE ${logs.where} AND ${where} AND e.kind = 'log' AND e.address IS NULL AND e.connection_id = l.connection_id AND e.log_index = l.log_index`

/**
 * Rows whose payload holds `path` (a transaction's from or to) with this lowercase value:
 * migration 13's partial index, its condition repeated for SQLite to use it. Payloads are
 * JSON.stringify's text, so an object's starts with '{'.
 */
const payloadField = (index: string, path: string): string =>
  `SELECT id FROM events INDEXED BY ${index} WHERE substr(payload, 1, 1) = '{' AND json_valid(payload)
     AND json_extract(payload, '${path}') IS NOT NULL AND lower(json_extract(payload, '${path}')) = @address`

/**
 * The topic0 keys of chain_logs, one index step each (a loose scan: the index leads with
 * them), for an address to be looked up under each: the index holds (topic0, address) keys.
 */
const TOPIC_KEYS = `topic(k) AS (
  SELECT (SELECT ${key('topics')} FROM chain_logs INDEXED BY chain_logs_by_topic0_address ORDER BY ${key('topics')} LIMIT 1)
  UNION ALL
  SELECT (SELECT ${key('topics')} FROM chain_logs INDEXED BY chain_logs_by_topic0_address WHERE ${key('topics')} > topic.k ORDER BY ${key('topics')} LIMIT 1)
  FROM topic WHERE topic.k IS NOT NULL)`
const ADDRESS_LOGS = {
  from: 'topic CROSS JOIN chain_logs l INDEXED BY chain_logs_by_topic0_address',
  where: `${key('l.topics')} = topic.k AND ${key('l.address')} = ${key('@address')}`,
}

/**
 * An address (the list condition's four places): in the logs rows point at, in rows' own
 * columns, in a transaction's from or to. Logs are counted, not the rows pointing at them (one a stream).
 */
const ADDRESS_OWN = `SELECT id FROM events INDEXED BY events_by_address WHERE address IS NOT NULL AND ${key('address')} = ${key('@address')}`
/** A payload field's JSON path, as json_extract takes it (and migration 13's indexes are written with). */
const jsonPath = (path: readonly string[]): string => `$.${path.join('.')}`
/** The address filter: a log's address (the row's own or its log's) or a transaction's from or to in the payload. */
const ADDRESS_MATCH = `(COALESCE(e.address, l.address) = @address OR ${PAYLOAD_ADDRESSES.map(({ path }) => `lower(json_extract(e.payload, '${jsonPath(path)}')) = @address`).join(' OR ')})`
/** The text filter: SQLite's LIKE ignores the case of ASCII letters, and only theirs (TEXT_FIELDS' rule). */
const TEXT_MATCH = `(${TEXT_FIELDS.map((field) => `${field} LIKE @text ESCAPE '\\'`).join(' OR ')})`
const PAYLOAD_ADDRESS_IDS = PAYLOAD_ADDRESSES.map(({ index, path }) => payloadField(index, jsonPath(path)))
const ADDRESS_COUNTS = [`WITH RECURSIVE ${TOPIC_KEYS} SELECT 1 FROM ${ADDRESS_LOGS.from} WHERE ${ADDRESS_LOGS.where}`, ADDRESS_OWN, ...PAYLOAD_ADDRESS_IDS].map(
  capped,
)
const ADDRESS_IDS = `WITH RECURSIVE ${TOPIC_KEYS} ${[
  pointingAt(ADDRESS_LOGS, 'l.address = @address'),
  `${ADDRESS_OWN} AND address = @address`,
  ...PAYLOAD_ADDRESS_IDS,
].join(' UNION ')}`

/** An event (topic0 among the selectors): in the logs rows point at, or in rows' own topics. */
const SELECTOR_KEYS = `SELECT ${key('value')} FROM json_each(@selectors)`
const SELECTORS = 'SELECT value FROM json_each(@selectors)'
const SELECTOR_LOGS = { from: 'chain_logs l INDEXED BY chain_logs_by_topic0_address', where: `${key('l.topics')} IN (${SELECTOR_KEYS})` }
const SELECTOR_OWN = `SELECT id FROM events INDEXED BY events_by_topic0 WHERE topics IS NOT NULL AND ${key('topics')} IN (${SELECTOR_KEYS})`
const SELECTOR_COUNTS = [`SELECT 1 FROM ${SELECTOR_LOGS.from} WHERE ${SELECTOR_LOGS.where}`, SELECTOR_OWN].map(capped)
const SELECTOR_IDS = [
  pointingAt(SELECTOR_LOGS, `substr(l.topics, 1, 66) IN (${SELECTORS}) AND e.topics IS NULL`),
  `${SELECTOR_OWN} AND substr(topics, 1, 66) IN (${SELECTORS})`,
].join(' UNION ')

const EVENT_COLUMNS = eventColumns()

/** New rows per connection and stream, from a committed batch and its [changes, rowid] pairs. */
function summarize(ops: FlatOps, results: Float64Array): EventsCommitted[] {
  const committed = new Map<number, EventsCommitted>()
  let i = 0
  let n = 0
  while (i < ops.length) {
    const statement = ops[i] as number
    if (statement === INSERT && results[n] === 1) {
      const connectionId = ops[i + 1] as number
      const streamId = ops[i + 2] as number
      let entry = committed.get(connectionId)
      if (!entry) committed.set(connectionId, (entry = { connectionId, lastId: 0, count: 0, perStream: new Map() }))
      entry.lastId = results[n + 1]!
      entry.count += 1
      entry.perStream.set(streamId, (entry.perStream.get(streamId) ?? 0) + 1)
    }
    i += 1 + PARAMETER_COUNTS[statement]!
    n += 2
  }
  return [...committed.values()]
}
