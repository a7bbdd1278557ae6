/**
 * Retention per connection: heads older than the connection's heads retention (default 30
 * days) and captured events older than its events retention (default: kept forever), deleted
 * oldest first in small batches, and the store's disk use per connection.
 */
import { UNREFERENCED } from './sqlite-chain-store'
import type { Db } from './database'

export const DEFAULT_HEADS_RETENTION_DAYS = 30
const DAY_MS = 86_400_000

export interface StorageUse {
  connectionId: number
  /** Bytes per table (`dbstat` pages shared out by row count), and rows. */
  tables: { table: string; rows: number; bytes: number }[]
  bytes: number
}

export class RetentionStore {
  constructor(
    private readonly db: Db,
    /** Commits queued captured events first; false when some are still held (see ChainStore). */
    private readonly settleCaptured: () => boolean = () => true,
  ) {}

  /**
   * Deletes up to `batch` heads received before `now - days`. Heads are read oldest first by
   * id (received in that order), so a batch stops at the first head still within retention.
   */
  pruneHeads(connectionId: number, days: number, batch: number, now = Date.now()): number {
    const cutoff = now - days * DAY_MS
    const rows = this.db.prepare('SELECT id, received_at FROM heads WHERE connection_id = ? ORDER BY id LIMIT ?').all(connectionId, batch) as {
      id: number
      received_at: number
    }[]
    const old = takeWhile(rows, (row) => row.received_at < cutoff)
    if (old.length === 0) return 0
    return this.db.prepare('DELETE FROM heads WHERE connection_id = ? AND id <= ?').run(connectionId, old.at(-1)!.id).changes
  }

  /** Deletes up to `batch` captured events received before `now - days`, oldest first. */
  pruneEvents(connectionId: number, days: number, batch: number, now = Date.now()): number {
    const cutoff = now - days * DAY_MS
    const rows = this.db.prepare('SELECT id, received_at FROM events WHERE connection_id = ? ORDER BY id LIMIT ?').all(connectionId, batch) as {
      id: number
      received_at: number
    }[]
    const old = takeWhile(rows, (row) => row.received_at < cutoff)
    if (old.length === 0 || !this.settleCaptured()) return 0
    const lastId = old.at(-1)!.id
    return this.db.transaction(() => {
      // The logs these rows point at (a captured log is stored once, in chain_logs) go with the last row pointing at them, once final.
      const pointed = this.db
        .prepare("SELECT DISTINCT block_hash, log_index FROM events WHERE connection_id = ? AND id <= ? AND kind = 'log' AND address IS NULL")
        .all(connectionId, lastId) as { block_hash: string; log_index: number }[]
      const deleted = this.db.prepare('DELETE FROM events WHERE connection_id = ? AND id <= ?').run(connectionId, lastId).changes
      const dropLog = this.db.prepare(
        `DELETE FROM chain_logs WHERE connection_id = ? AND block_hash = ? AND log_index = ?
           AND block_number <= (SELECT finalized FROM chain_cursor WHERE connection_id = chain_logs.connection_id) AND ${UNREFERENCED}`,
      )
      for (const log of pointed) dropLog.run(connectionId, log.block_hash, log.log_index)
      return deleted
    })()
  }

  /**
   * Disk use per connection: each table's pages (SQLite's `dbstat`, tables and their
   * indexes) shared out by the connection's share of the rows; row counts alone where this
   * SQLite build has no dbstat.
   */
  storageUse(connectionIds: readonly number[]): StorageUse[] {
    const tables = ['heads', 'events', 'chain_blocks', 'chain_logs'] as const
    const pageBytes = new Map<string, number>()
    try {
      const rows = this.db
        .prepare(
          `SELECT m.tbl_name AS tbl, SUM(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_schema m ON m.name = s.name WHERE m.tbl_name IN ('heads', 'events', 'chain_blocks', 'chain_logs') GROUP BY m.tbl_name`,
        )
        .all() as { tbl: string; bytes: number }[]
      for (const row of rows) pageBytes.set(row.tbl, row.bytes)
    } catch {
      // No dbstat virtual table in this build: bytes stay 0, rows still say where the data is.
    }
    const totals = new Map(tables.map((table) => [table, (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n]))
    return connectionIds.map((connectionId) => {
      const perTable = tables.map((table) => {
        const rows = (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE connection_id = ?`).get(connectionId) as { n: number }).n
        const total = totals.get(table) ?? 0
        return { table, rows, bytes: total === 0 ? 0 : Math.round(((pageBytes.get(table) ?? 0) * rows) / total) }
      })
      return { connectionId, tables: perTable, bytes: perTable.reduce((sum, t) => sum + t.bytes, 0) }
    })
  }

  /** Gives free pages back to the file system; rewrites the whole file, so it runs only on request. */
  compact(): void {
    this.db.exec('VACUUM')
  }
}

function takeWhile<T>(items: T[], keep: (item: T) => boolean): T[] {
  const end = items.findIndex((item) => !keep(item))
  return end === -1 ? items : items.slice(0, end)
}
