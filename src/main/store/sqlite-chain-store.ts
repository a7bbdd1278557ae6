/**
 * The tracker's chain in SQLite (ChainStore, chain-store.ts): blocks (one row per header,
 * the raw header kept once), the logs some registered filter matches, and the cursor.
 * Appends go to the events writer thread with the captured rows (chain-writes.ts).
 */
import { CHAIN_WRITE, CHAIN_WRITE_STATEMENTS, INSERT_CHAIN_LOG_SQL, pushChainLogRow, type CommitQueue } from './chain-writes'
import {
  chainBlockFromRow,
  storedLogFromRow,
  type BlockWithLogs,
  type ChainBlockRow,
  type ChainBranch,
  type ChainLog,
  type ChainStore,
  type SharedFilter,
  type Cursor,
  type StoredLog,
  type StoredLogRow,
} from './chain-store'
import { preparedOnce, ungated, type Db, type WriteGate } from './database'
import { chainLogFromRow, type ChainLogRow } from './raw-log'
import { parameterCount, type FlatOps } from './sqlite-writer'

export { INSERT_CHAIN_LOG_SQL }

/**
 * No captured event points at this chain_logs row: a subscription's log is stored once, here,
 * and outlives finality (and its block's orphaning) for as long as its events row does.
 */
export const UNREFERENCED = `NOT EXISTS (SELECT 1 FROM events e WHERE e.block_hash = chain_logs.block_hash AND COALESCE(e.log_index, -1) = +chain_logs.log_index
  AND e.kind IN ('log', 'head') AND e.block_hash IS NOT NULL AND e.connection_id = chain_logs.connection_id)`

export interface SqliteChainStoreOptions {
  /** Main-thread writes (orphaning, finality, pruning) go through it: after the writer thread, held back while the store refuses writes. */
  writeGate?: WriteGate
  /**
   * Commits captured rows still queued and says whether none is left: an events row on its
   * way to the store may point at a log pruning would otherwise take as unreferenced.
   */
  settleCaptured?: () => boolean
  /**
   * Where appended blocks and logs go: queued with the captured rows and committed by the
   * events writer thread, in order, while the main thread goes on parsing. Without one
   * (tests) they are written on this connection.
   */
  queue?: CommitQueue
}

export class SqliteChainStore implements ChainStore {
  /** Every statement prepared once: cursor() alone runs several times per block for each watch. */
  private readonly sql: ReturnType<typeof preparedOnce>
  private readonly writeGate: WriteGate
  private readonly settleCaptured: () => boolean
  private readonly queue: CommitQueue
  /** The stored cursor, read once and then kept as this store writes it (one ChainStore per connection's tracker). */
  private known: { cursor: Cursor | undefined } | null = null

  constructor(
    private readonly db: Db,
    private readonly connectionId: number,
    options: SqliteChainStoreOptions = {},
  ) {
    this.sql = preparedOnce(db)
    this.writeGate = options.writeGate ?? ungated
    this.settleCaptured = options.settleCaptured ?? (() => true)
    this.queue = options.queue ?? inlineQueue(db)
  }

  cursor(): Cursor | undefined {
    this.known ??= { cursor: this.readCursor() }
    return this.known.cursor
  }

  private readCursor(): Cursor | undefined {
    const row = this.sql('SELECT first_block, number, hash, finalized FROM chain_cursor WHERE connection_id = ?').get(this.connectionId) as
      { first_block: number; number: number; hash: string; finalized: number } | undefined
    return row ? { firstBlock: row.first_block, number: row.number, hash: row.hash, finalized: row.finalized } : undefined
  }

  /** After a write of the cursor: read again at the next ask. */
  private forgetCursor(): void {
    this.known = null
  }

  /**
   * Before a pruning pass: commits captured rows still queued and says whether none is left.
   * A row queued later points at a log above the pass's finalized block, or carries the log
   * itself (EventStore.enqueueLog), so no pointer is left dangling.
   */
  settled(): Promise<boolean> {
    return Promise.resolve(this.settleCaptured())
  }

  /**
   * Stores canonical blocks (in chain order) with all their logs and advances the cursor to
   * the last, atomically (one batch). Resolves once committed; until then the store answers
   * as before the call, cursor included.
   */
  async appendBlocks(blocks: BlockWithLogs[], firstBlock: number): Promise<void> {
    const last = blocks.at(-1)?.block
    if (!last) return
    const ops: FlatOps = []
    let count = 1
    for (const { block, logs } of blocks) {
      ops.push(CHAIN_WRITE.block, this.connectionId, block.number, block.hash, block.parentHash, block.timestamp, JSON.stringify(block.header))
      for (const log of logs) pushChainLogRow(ops, CHAIN_WRITE.log, this.connectionId, log)
      count += 1 + logs.length
    }
    ops.push(CHAIN_WRITE.cursor, this.connectionId, firstBlock, last.number, last.hash)
    try {
      await this.queue.enqueueCommitted(ops, count)
    } finally {
      this.forgetCursor()
    }
  }

  /** Logs of blocks already stored (a filter registered late: its matches in the non-final range). Resolves once committed. */
  /** `completes` is for shared filters, which a SQLite store never has (one process owns the file). */
  sharedFilters(): readonly SharedFilter[] {
    return []
  }

  onSharedFiltersChanged(): () => void {
    return () => undefined
  }

  async insertLogs(logs: ChainLog[], _completes?: readonly number[]): Promise<void> {
    if (logs.length === 0) return
    const ops: FlatOps = []
    for (const log of logs) pushChainLogRow(ops, CHAIN_WRITE.log, this.connectionId, log)
    await this.queue.enqueueCommitted(ops, logs.length)
  }

  /** The lowest canonical block still stored (pruning removes final ones from below). */
  oldestCanonical(): number | undefined {
    const row = this.sql('SELECT MIN(number) AS n FROM chain_blocks WHERE connection_id = ? AND canonical = 1').get(this.connectionId) as {
      n: number | null
    }
    return row.n ?? undefined
  }

  /**
   * One batch of pruning, for blocks at or below `finalized` (they can no longer be
   * reorganized): orphaned blocks and their logs; canonical blocks below the finalized one
   * (kept: the finalized block, the anchor for walking a fork back); canonical logs unless
   * `keepLog` wants them. A log a captured event points at stays either way. Logs are walked
   * once, in (block, log index) order from where the last batch stopped, a position kept in
   * chain_cursor across restarts: a store holding millions of captured logs is not read again.
   * Returns how many rows went and whether everything final has been looked at.
   */
  pruneFinal(finalized: number, batch: number, keepLog: (log: Pick<ChainLog, 'address' | 'topics'>) => boolean): Promise<{ rows: number; done: boolean }> {
    // Between the writer thread's batches: capture's commits never wait for pruning, nor pruning for them.
    return new Promise((resolve, reject) =>
      this.queue.whenIdle(() => {
        try {
          resolve(this.pruneBatch(finalized, batch, keepLog))
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)))
        }
      }),
    )
  }

  private pruneBatch(finalized: number, batch: number, keepLog: (log: Pick<ChainLog, 'address' | 'topics'>) => boolean): { rows: number; done: boolean } {
    return this.writeGate(
      this.db.transaction(() => {
        let rows = 0
        const orphans = this.sql('SELECT hash FROM chain_blocks WHERE connection_id = ? AND canonical = 0 AND number <= ? LIMIT ?').all(
          this.connectionId,
          finalized,
          batch,
        ) as { hash: string }[]
        const dropLogsOf = this.sql(`DELETE FROM chain_logs WHERE connection_id = ? AND block_hash = ? AND ${UNREFERENCED}`)
        const dropBlock = this.sql('DELETE FROM chain_blocks WHERE connection_id = ? AND hash = ?')
        for (const { hash } of orphans) rows += dropLogsOf.run(this.connectionId, hash).changes + dropBlock.run(this.connectionId, hash).changes
        const blocks = this.sql(
          'DELETE FROM chain_blocks WHERE rowid IN (SELECT rowid FROM chain_blocks WHERE connection_id = ? AND canonical = 1 AND number < ? ORDER BY number LIMIT ?)',
        ).run(this.connectionId, finalized, batch).changes
        rows += blocks
        const position = this.sql('SELECT logs_pruned_block AS block, logs_pruned_index AS logIndex FROM chain_cursor WHERE connection_id = ?').get(
          this.connectionId,
        ) as { block: number; logIndex: number } | undefined
        if (!position) return { rows, done: true }
        // Whether a captured event points at each is asked in the same read: a store of captured logs is mostly kept.
        const candidates = this.sql(
          `SELECT rowid AS id, block_number, log_index, address, topics, ${UNREFERENCED} AS free FROM chain_logs
           WHERE connection_id = ? AND canonical = 1 AND (block_number, log_index) > (?, ?) AND block_number <= ?
           ORDER BY block_number, log_index LIMIT ?`,
        ).all(this.connectionId, position.block, position.logIndex, finalized, batch) as {
          id: number
          block_number: number
          log_index: number
          address: string
          topics: string
          free: number
        }[]
        // In this transaction nothing else writes: a row found unreferenced above still is.
        const dropLog = this.sql('DELETE FROM chain_logs WHERE rowid = ?')
        for (const row of candidates)
          if (row.free === 1 && !keepLog({ address: row.address, topics: row.topics ? row.topics.split(',') : [] })) rows += dropLog.run(row.id).changes
        const last = candidates.at(-1)
        if (last)
          this.sql('UPDATE chain_cursor SET logs_pruned_block = ?, logs_pruned_index = ? WHERE connection_id = ?').run(
            last.block_number,
            last.log_index,
            this.connectionId,
          )
        return { rows, done: candidates.length < batch && orphans.length < batch && blocks < batch }
      }),
    )
  }

  /** Marks canonical blocks above `ancestor` (and their logs) orphaned; returns them newest first. */
  // On the main connection, after the writer's batch in flight: the tracker's appends before it have all committed (it awaits each).
  async orphanAbove(ancestor: { number: number; hash: string }): Promise<BlockWithLogs[]> {
    return this.writeGate(
      this.db.transaction(() => {
        const orphaned = this.canonicalRange(ancestor.number + 1, Number.MAX_SAFE_INTEGER).reverse()
        this.sql('UPDATE chain_blocks SET canonical = 0 WHERE connection_id = ? AND canonical = 1 AND number > ?').run(this.connectionId, ancestor.number)
        this.sql('UPDATE chain_logs SET canonical = 0 WHERE connection_id = ? AND canonical = 1 AND block_number > ?').run(this.connectionId, ancestor.number)
        this.sql('UPDATE chain_cursor SET number = ?, hash = ? WHERE connection_id = ?').run(ancestor.number, ancestor.hash, this.connectionId)
        this.forgetCursor()
        return orphaned
      }),
    )
  }

  /** Finality moved to `number` (never back); resolves once committed, in order with the appended blocks. */
  async setFinalized(number: number): Promise<void> {
    try {
      await this.queue.enqueueCommitted([CHAIN_WRITE.finalized, number, this.connectionId, number], 1)
    } finally {
      this.forgetCursor()
    }
  }

  /** Any stored block at this height (canonical preferred), for comparing parents. */
  blockAt(number: number): { hash: string; parentHash: string } | undefined {
    const row = this.sql('SELECT hash, parent_hash FROM chain_blocks WHERE connection_id = ? AND number = ? ORDER BY canonical DESC LIMIT 1').get(
      this.connectionId,
      number,
    ) as { hash: string; parent_hash: string } | undefined
    return row ? { hash: row.hash, parentHash: row.parent_hash } : undefined
  }

  canonicalHash(number: number): string | undefined {
    const row = this.sql('SELECT hash FROM chain_blocks WHERE connection_id = ? AND canonical = 1 AND number = ?').get(this.connectionId, number) as
      { hash: string } | undefined
    return row?.hash
  }

  /** Canonical blocks in [from, to] with their logs, oldest first. */
  canonicalRange(from: number, to: number): BlockWithLogs[] {
    const blocks = this.sql(
      'SELECT number, hash, parent_hash, timestamp, header_json FROM chain_blocks WHERE connection_id = ? AND canonical = 1 AND number BETWEEN ? AND ? ORDER BY number',
    ).all(this.connectionId, from, to) as ChainBlockRow[]
    if (blocks.length === 0) return []
    const logs = this.sql(
      'SELECT * FROM chain_logs WHERE connection_id = ? AND canonical = 1 AND block_number BETWEEN ? AND ? ORDER BY block_number, log_index',
    ).all(this.connectionId, from, to) as ChainLogRow[]
    const byBlock = new Map<string, ChainLog[]>()
    for (const row of logs) {
      const list = byBlock.get(row.block_hash) ?? []
      list.push(chainLogFromRow(row))
      byBlock.set(row.block_hash, list)
    }
    return blocks.map((b) => ({ block: chainBlockFromRow(b), logs: byBlock.get(b.hash) ?? [] }))
  }

  /**
   * Where a block the store once held stands now: still canonical; orphaned, with the
   * orphaned blocks of its branch from it down to the fork point (newest first, with their
   * logs) and the fork point itself; or unknown (never stored, or its branch leaves the store).
   */
  branchOf(hash: string): ChainBranch {
    const find = this.sql('SELECT number, hash, parent_hash, timestamp, header_json, canonical FROM chain_blocks WHERE connection_id = ? AND hash = ?')
    const logsOf = this.sql('SELECT * FROM chain_logs WHERE connection_id = ? AND block_hash = ? ORDER BY log_index')
    const orphaned: BlockWithLogs[] = []
    let current = hash.toLowerCase()
    // A branch is never longer than the deepest reorg the tracker applies; the bound only guards a corrupt store.
    for (let steps = 0; steps < 100_000; steps++) {
      const row = find.get(this.connectionId, current) as (ChainBlockRow & { canonical: number }) | undefined
      if (!row) return orphaned.length === 0 ? { state: 'unknown' } : { state: 'unknown', orphaned }
      if (row.canonical === 1) return orphaned.length === 0 ? { state: 'canonical', number: row.number } : { state: 'orphaned', orphaned, ancestor: row.number }
      orphaned.push({ block: chainBlockFromRow(row), logs: (logsOf.all(this.connectionId, row.hash) as ChainLogRow[]).map(chainLogFromRow) })
      current = row.parent_hash
    }
    return { state: 'unknown' }
  }

  /** Every canonical log, for checks against eth_getLogs. */
  canonicalLogs(from: number, to: number): ChainLog[] {
    return (
      this.sql('SELECT * FROM chain_logs WHERE connection_id = ? AND canonical = 1 AND block_number BETWEEN ? AND ? ORDER BY block_number, log_index').all(
        this.connectionId,
        from,
        to,
      ) as ChainLogRow[]
    ).map(chainLogFromRow)
  }
}

/** Without the events writer (tests of the chain alone): the rows are written at once, on this connection, in one transaction. */
function inlineQueue(db: Db): CommitQueue {
  const prepared = CHAIN_WRITE_STATEMENTS.map((sql) => ({ statement: db.prepare(sql), count: parameterCount(sql) }))
  const write = db.transaction((ops: FlatOps) => {
    for (let i = 0; i < ops.length;) {
      const { statement, count } = prepared[(ops[i] as number) - CHAIN_WRITE.block]!
      statement.run(...ops.slice(i + 1, i + 1 + count))
      i += 1 + count
    }
  })
  return {
    async enqueueCommitted(ops) {
      write(ops)
    },
    whenIdle: (run) => run(),
  }
}

/** Everything the tracker learned of one connection's chain (the demo chain restarts as a new chain). */
export function forgetChain(db: Db, connectionId: number): void {
  for (const table of ['chain_blocks', 'chain_logs', 'chain_cursor']) db.prepare(`DELETE FROM ${table} WHERE connection_id = ?`).run(connectionId)
}

/**
 * Stored logs of every connection with this topic0 and `topic` as topic1 or topic2, newest
 * first: a watched address's transfers in and out.
 */
export function logsByIndexedTopic(db: Db, topic0: string, topic: string, limit: number): StoredLog[] {
  // topics is "topic0,topic1,topic2[,topic3]": topic1 starts at 68, topic2 at 135 (1-based).
  const rows = db
    .prepare(
      `SELECT connection_id, address, topics, data, block_number, tx_hash, canonical FROM chain_logs
       WHERE substr(topics, 1, 66) = @topic0 AND (substr(topics, 68, 66) = @topic OR substr(topics, 135, 66) = @topic)
       ORDER BY block_number DESC, log_index DESC LIMIT @limit`,
    )
    .all({ topic0, topic, limit }) as StoredLogRow[]
  return rows.map(storedLogFromRow)
}
