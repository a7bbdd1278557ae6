/**
 * Retention in the PostgreSQL store, as SQLite's RetentionStore (../retention-store.ts)
 * does it: a connection's heads and captured events older than its retention deleted oldest
 * first, a batch at a time, with the logs pruned events pointed at once nothing else does,
 * and the space each connection takes.
 *
 * What differs is the space. `storageUse` shares out each table's size as PostgreSQL counts
 * it (pg_total_relation_size: the table, its TOAST and its indexes, as SQLite's dbstat pages
 * of a table and its indexes) by the connection's share of the rows. `compact` is a plain
 * VACUUM: the space of deleted rows is reused by later rows, and given back to the file
 * system only where it ends a table's file. VACUUM FULL would give it all back, but it
 * rewrites each table under an exclusive lock that stops every capturer and viewer sharing
 * the server meanwhile; that is for the server's administrator to run when they choose.
 */
import type { StorageUse } from '../retention-store'
import { UNREFERENCED } from './chain-store'
import type { PostgresPool } from './database'

const DAY_MS = 86_400_000
const TABLES = ['heads', 'events', 'chain_blocks', 'chain_logs'] as const

/**
 * The last id of a connection's oldest rows received before the cutoff ($3), among its first
 * `batch` ($2) by id: they are read oldest first, so a batch stops at the first row still
 * within retention. NULL when the oldest row is within it.
 */
const oldRows = (table: 'heads' | 'events'): string => `old AS (
  WITH first AS (SELECT id, received_at FROM ${table} WHERE connection_id = $1 ORDER BY id LIMIT $2)
  SELECT max(id) AS last FROM first WHERE id < ALL (SELECT id FROM first WHERE received_at >= $3))`

const PRUNE_HEADS = `WITH ${oldRows('heads')} DELETE FROM heads WHERE connection_id = $1 AND id <= (SELECT last FROM old)`
const OLD_EVENTS = `WITH ${oldRows('events')} SELECT last FROM old`

/** Rows per connection in each table, and each table's size, in one statement. */
const USE = `SELECT tbl, connection_id, n, pg_total_relation_size(tbl::regclass) AS bytes FROM (
  ${TABLES.map((table) => `SELECT '${table}' AS tbl, connection_id, count(*) AS n FROM ${table} GROUP BY connection_id`).join(' UNION ALL ')}) AS counted`

export class PostgresRetentionStore {
  constructor(
    private readonly pool: PostgresPool,
    /** Commits queued captured events first; false when some are still held (PostgresCaptureWriter.settle, then its pendingCount). */
    private readonly settleCaptured: () => Promise<boolean> = () => Promise.resolve(true),
  ) {}

  /** Deletes up to `batch` heads received before `now - days`, oldest first; how many. */
  async pruneHeads(connectionId: number, days: number, batch: number, now = Date.now()): Promise<number> {
    return (await this.pool.query(PRUNE_HEADS, [connectionId, batch, now - days * DAY_MS])).rowCount ?? 0
  }

  /** Deletes up to `batch` captured events received before `now - days`, oldest first, and the logs only they pointed at, once final; how many events. */
  async pruneEvents(connectionId: number, days: number, batch: number, now = Date.now()): Promise<number> {
    const last = (await this.pool.query<{ last: number | null }>(OLD_EVENTS, [connectionId, batch, now - days * DAY_MS])).rows[0]?.last ?? null
    if (last === null || !(await this.settleCaptured())) return 0
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      const gone = await client.query<{ kind: string; address: string | null; block_hash: string | null; log_index: number | null }>(
        'DELETE FROM events WHERE connection_id = $1 AND id <= $2 RETURNING kind, address, block_hash, log_index',
        [connectionId, last],
      )
      // The logs these rows point at (a captured log is stored once, in chain_logs) go with the last row pointing at them, once final.
      const pointed = new Map<string, [string, number]>()
      for (const row of gone.rows)
        if (row.kind === 'log' && row.address === null && row.block_hash !== null && row.log_index !== null)
          pointed.set(`${row.block_hash}:${row.log_index}`, [row.block_hash, row.log_index])
      if (pointed.size > 0)
        await client.query(
          `DELETE FROM chain_logs WHERE connection_id = $1 AND (block_hash, log_index) IN (SELECT * FROM unnest($2::text[], $3::bigint[]))
             AND block_number <= (SELECT finalized FROM chain_cursor WHERE connection_id = chain_logs.connection_id) AND ${UNREFERENCED}`,
          [connectionId, [...pointed.values()].map(([hash]) => hash), [...pointed.values()].map(([, index]) => index)],
        )
      await client.query('COMMIT')
      return gone.rowCount ?? 0
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  /**
   * Space per connection: each table's size (pg_total_relation_size) shared out by the
   * connection's share of its rows, and the rows, for each of heads, events, chain_blocks
   * and chain_logs (RetentionStore.storageUse's shape).
   */
  async storageUse(connectionIds: readonly number[]): Promise<StorageUse[]> {
    const { rows } = await this.pool.query<{ tbl: string; connection_id: number; n: number; bytes: number }>(USE)
    const rowsOf = new Map(rows.map((row) => [`${row.tbl}:${row.connection_id}`, row.n]))
    const totals = new Map<string, { rows: number; bytes: number }>()
    for (const row of rows) {
      const total = totals.get(row.tbl) ?? { rows: 0, bytes: row.bytes }
      total.rows += row.n
      totals.set(row.tbl, total)
    }
    return connectionIds.map((connectionId) => {
      const tables = TABLES.map((table) => {
        const n = rowsOf.get(`${table}:${connectionId}`) ?? 0
        const total = totals.get(table)
        return { table, rows: n, bytes: total ? Math.round((total.bytes * n) / total.rows) : 0 }
      })
      return { connectionId, tables, bytes: tables.reduce((sum, t) => sum + t.bytes, 0) }
    })
  }

  /** VACUUM of the pruned tables (see above); the database's size before and after (after may be larger: VACUUM writes each table's free-space and visibility maps). */
  async compact(): Promise<{ bytesBefore: number; bytesAfter: number }> {
    const size = async (): Promise<number> => (await this.pool.query<{ bytes: number }>('SELECT pg_database_size(current_database()) AS bytes')).rows[0]!.bytes
    const bytesBefore = await size()
    await this.pool.query(`VACUUM (ANALYZE) ${TABLES.join(', ')}`)
    return { bytesBefore, bytesAfter: await size() }
  }
}
