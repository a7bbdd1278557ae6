/**
 * The tracker's chain in PostgreSQL (ChainStore, ../chain-store.ts). The store holds the
 * same tables as SQLite's; this process holds the window the tracker works in (every stored
 * block: the non-final ones, orphans until they are final, the finalized anchor) in memory,
 * loaded once at open, so reads answer at once as ChainStore promises and a watch sees no
 * tracker event between a read and its use. One capturer writes a connection's chain (the
 * leader), so its window is the store's. Writes run one at a time, in the order made, each
 * in one transaction of multi-row statements; the window changes only once one commits, so
 * a failed write leaves both as they were and the tracker tries the block again. Each write
 * announces itself on the change feed (change-feed.ts) as it commits, for viewers.
 */
import type { Pool, PoolClient } from 'pg'
import {
  chainBlockFromRow,
  type BlockWithLogs,
  type ChainBlock,
  type ChainBlockRow,
  type ChainBranch,
  type ChainLog,
  type ChainStore,
  type Cursor,
} from '../chain-store'
import { chainLogFromRow, encodeRawLog, type ChainLogRow } from '../raw-log'
import { notifyChanges } from './change-feed'

/** A stored block as the window holds it: each log with its own canonical flag, as in chain_logs. */
interface HeldBlock {
  block: ChainBlock
  canonical: boolean
  logs: Map<number, { log: ChainLog; canonical: boolean }>
}

/** No captured event points at this chain_logs row (as SQLite's UNREFERENCED). */
export const UNREFERENCED = `NOT EXISTS (SELECT 1 FROM events e WHERE e.block_hash = chain_logs.block_hash AND COALESCE(e.log_index, -1) = chain_logs.log_index
  AND e.kind IN ('log', 'head') AND e.block_hash IS NOT NULL AND e.connection_id = chain_logs.connection_id)`

const INSERT_BLOCKS = `INSERT INTO chain_blocks (connection_id, number, hash, parent_hash, timestamp, canonical, header_json)
  SELECT $1, t.number, t.hash, t.parent_hash, t.timestamp, TRUE, t.header_json
  FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS t(number, hash, parent_hash, timestamp, header_json)
  ON CONFLICT (connection_id, hash) DO UPDATE SET canonical = TRUE`

const INSERT_LOGS = `INSERT INTO chain_logs (connection_id, block_hash, block_number, log_index, tx_hash, tx_index, address, topics, data, canonical, raw_json)
  SELECT $1, t.block_hash, t.block_number, t.log_index, t.tx_hash, t.tx_index, t.address, t.topics, t.data, TRUE, t.raw_json
  FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[])
    AS t(block_hash, block_number, log_index, tx_hash, tx_index, address, topics, data, raw_json)
  ON CONFLICT (connection_id, block_hash, log_index) DO UPDATE SET canonical = TRUE`

/** Moves the cursor only from where this store left it ($5; NULL: no cursor yet): a capturer that lost its leadership cannot write over the next one's chain. */
const SAVE_CURSOR = `INSERT INTO chain_cursor (connection_id, first_block, number, hash) VALUES ($1, $2, $3, $4)
  ON CONFLICT (connection_id) DO UPDATE SET number = excluded.number, hash = excluded.hash WHERE chain_cursor.hash = $5`

/** Another capturer moved this connection's chain: this store's writes stop (its window is no longer the store's). */
export class ChainMovedError extends Error {
  constructor(connectionId: number, expected: string | null) {
    super(
      `connection ${connectionId}: another capturer moved the stored chain (its cursor is no longer at ${expected ?? 'none'}); this capturer writes no more of it`,
    )
    this.name = 'ChainMovedError'
  }
}

export interface PostgresChainStoreOptions {
  /** Commits captured rows still queued and says whether none is left (ChainStore.settled). */
  settleCaptured?: () => Promise<boolean>
  /**
   * A follower's chain (another instance captures the connection): loaded from the store,
   * then kept in memory only; nothing is written.
   */
  inMemory?: boolean
}

export class PostgresChainStore implements ChainStore {
  private readonly byHash = new Map<string, HeldBlock>()
  private readonly canonicalByNumber = new Map<number, HeldBlock>()
  private current: Cursor | undefined
  /** The cursor hash the next write moves from: the last write made (committed or on its way), or the committed cursor after a failure. */
  private chainHead: string | null = null
  /** The last write made: the next one starts after it has settled. */
  private lastWrite: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly pool: Pool,
    private readonly connectionId: number,
    private readonly options: PostgresChainStoreOptions,
  ) {}

  /** The connection's stored chain, read into the window. */
  static async open(pool: Pool, connectionId: number, options: PostgresChainStoreOptions = {}): Promise<PostgresChainStore> {
    const store = new PostgresChainStore(pool, connectionId, options)
    await store.load()
    return store
  }

  private async load(): Promise<void> {
    const id = this.connectionId
    const cursor = await this.pool.query<{ first_block: number; number: number; hash: string; finalized: number }>(
      'SELECT first_block, number, hash, finalized FROM chain_cursor WHERE connection_id = $1',
      [id],
    )
    const row = cursor.rows[0]
    this.current = row ? { firstBlock: row.first_block, number: row.number, hash: row.hash, finalized: row.finalized } : undefined
    this.chainHead = this.current?.hash ?? null
    const blocks = await this.pool.query<ChainBlockRow & { canonical: boolean }>(
      'SELECT number, hash, parent_hash, timestamp, header_json, canonical FROM chain_blocks WHERE connection_id = $1 ORDER BY number',
      [id],
    )
    for (const b of blocks.rows) this.hold(chainBlockFromRow(b), b.canonical)
    // Logs of held blocks only: captured logs outlive their pruned blocks, and are the events' business.
    const logs = await this.pool.query<ChainLogRow & { canonical: boolean }>(
      `SELECT l.block_hash, l.block_number, l.log_index, l.tx_hash, l.tx_index, l.address, l.topics, l.data, l.raw_json, l.canonical
       FROM chain_logs l JOIN chain_blocks b ON b.connection_id = l.connection_id AND b.hash = l.block_hash
       WHERE l.connection_id = $1 ORDER BY l.block_number, l.log_index`,
      [id],
    )
    for (const l of logs.rows) this.byHash.get(l.block_hash)?.logs.set(l.log_index, { log: chainLogFromRow(l), canonical: l.canonical })
  }

  cursor(): Cursor | undefined {
    return this.current
  }

  settled(): Promise<boolean> {
    return this.options.settleCaptured?.() ?? Promise.resolve(true)
  }

  async appendBlocks(blocks: BlockWithLogs[], firstBlock: number): Promise<void> {
    const last = blocks.at(-1)?.block
    if (!last) return
    await this.write(async (client) => {
      await client.query(INSERT_BLOCKS, [
        this.connectionId,
        blocks.map((b) => b.block.number),
        blocks.map((b) => b.block.hash),
        blocks.map((b) => b.block.parentHash),
        blocks.map((b) => b.block.timestamp),
        blocks.map((b) => JSON.stringify(b.block.header)),
      ])
      await this.insertLogRows(
        client,
        blocks.flatMap((b) => b.logs),
      )
      const moved = await client.query(SAVE_CURSOR, [this.connectionId, firstBlock, last.number, last.hash, this.chainHead])
      if (moved.rowCount === 0) throw new ChainMovedError(this.connectionId, this.chainHead)
      this.chainHead = last.hash
      await notifyChanges(client, [{ change: 'chain', connectionId: this.connectionId, kind: 'blocks', number: last.number, hash: last.hash }])
    }, undefined)
    for (const { block, logs } of blocks) {
      const held = this.hold(block, true)
      for (const log of logs) held.logs.set(log.logIndex, { log, canonical: true })
    }
    this.current = { firstBlock: this.current?.firstBlock ?? firstBlock, number: last.number, hash: last.hash, finalized: this.current?.finalized ?? -1 }
  }

  async insertLogs(logs: ChainLog[]): Promise<void> {
    if (logs.length === 0) return
    await this.write((client) => this.insertLogRows(client, logs), undefined)
    for (const log of logs) this.byHash.get(log.blockHash)?.logs.set(log.logIndex, { log, canonical: true })
  }

  /** One multi-row INSERT; a log given twice is written once (one statement may not update a row twice). */
  private async insertLogRows(client: PoolClient, logs: ChainLog[]): Promise<void> {
    const unique = [...new Map(logs.map((log) => [`${log.blockHash}:${log.logIndex}`, log])).values()]
    if (unique.length === 0) return
    await client.query(INSERT_LOGS, [
      this.connectionId,
      unique.map((l) => l.blockHash),
      unique.map((l) => l.blockNumber),
      unique.map((l) => l.logIndex),
      unique.map((l) => l.transactionHash),
      unique.map((l) => l.transactionIndex),
      unique.map((l) => l.address),
      unique.map((l) => l.topics.join(',')),
      unique.map((l) => l.data),
      unique.map((l) => encodeRawLog(l, l.raw)),
    ])
  }

  async orphanAbove(ancestor: { number: number; hash: string }): Promise<BlockWithLogs[]> {
    await this.write(async (client) => {
      await client.query('UPDATE chain_blocks SET canonical = FALSE WHERE connection_id = $1 AND canonical AND number > $2', [
        this.connectionId,
        ancestor.number,
      ])
      await client.query('UPDATE chain_logs SET canonical = FALSE WHERE connection_id = $1 AND canonical AND block_number > $2', [
        this.connectionId,
        ancestor.number,
      ])
      const moved = await client.query('UPDATE chain_cursor SET number = $2, hash = $3 WHERE connection_id = $1 AND hash = $4', [
        this.connectionId,
        ancestor.number,
        ancestor.hash,
        this.chainHead,
      ])
      if (moved.rowCount === 0) throw new ChainMovedError(this.connectionId, this.chainHead)
      this.chainHead = ancestor.hash
      await notifyChanges(client, [{ change: 'chain', connectionId: this.connectionId, kind: 'orphaned', number: ancestor.number, hash: ancestor.hash }])
    }, undefined)
    const orphaned = this.canonicalRange(ancestor.number + 1, Number.MAX_SAFE_INTEGER).reverse()
    for (const held of this.byHash.values()) {
      if (held.block.number <= ancestor.number) continue
      held.canonical = false
      for (const entry of held.logs.values()) entry.canonical = false
      if (this.canonicalByNumber.get(held.block.number) === held) this.canonicalByNumber.delete(held.block.number)
    }
    if (this.current) this.current = { ...this.current, number: ancestor.number, hash: ancestor.hash }
    return orphaned
  }

  async setFinalized(number: number): Promise<void> {
    await this.write(async (client) => {
      const moved = await client.query('UPDATE chain_cursor SET finalized = $1 WHERE connection_id = $2 AND finalized < $1', [number, this.connectionId])
      if (moved.rowCount) await notifyChanges(client, [{ change: 'chain', connectionId: this.connectionId, kind: 'finalized', number }])
    }, undefined)
    if (this.current && this.current.finalized < number) this.current = { ...this.current, finalized: number }
  }

  async pruneFinal(
    finalized: number,
    batch: number,
    keepLog: (log: Pick<ChainLog, 'address' | 'topics'>) => boolean,
  ): Promise<{ rows: number; done: boolean }> {
    const id = this.connectionId
    const result = await this.write(
      async (client) => {
        let rows = 0
        const orphans = (
          await client.query<{ hash: string }>('SELECT hash FROM chain_blocks WHERE connection_id = $1 AND NOT canonical AND number <= $2 LIMIT $3', [
            id,
            finalized,
            batch,
          ])
        ).rows.map((r) => r.hash)
        if (orphans.length > 0) {
          rows += (await client.query(`DELETE FROM chain_logs WHERE connection_id = $1 AND block_hash = ANY($2::text[]) AND ${UNREFERENCED}`, [id, orphans]))
            .rowCount!
          rows += (await client.query('DELETE FROM chain_blocks WHERE connection_id = $1 AND hash = ANY($2::text[])', [id, orphans])).rowCount!
        }
        const blocks = (
          await client.query(
            `DELETE FROM chain_blocks WHERE connection_id = $1 AND hash IN
             (SELECT hash FROM chain_blocks WHERE connection_id = $1 AND canonical AND number < $2 ORDER BY number LIMIT $3)`,
            [id, finalized, batch],
          )
        ).rowCount!
        rows += blocks
        const position = (
          await client.query<{ block: number; log_index: number }>(
            'SELECT logs_pruned_block AS block, logs_pruned_index AS log_index FROM chain_cursor WHERE connection_id = $1',
            [id],
          )
        ).rows[0]
        if (!position) return { rows, done: true }
        // Final canonical logs are walked once, in order, from where the last batch stopped (kept across restarts).
        const candidates = (
          await client.query<{ block_hash: string; block_number: number; log_index: number; address: string; topics: string; free: boolean }>(
            `SELECT block_hash, block_number, log_index, address, topics, ${UNREFERENCED} AS free FROM chain_logs
           WHERE connection_id = $1 AND canonical AND (block_number, log_index) > ($2, $3) AND block_number <= $4
           ORDER BY block_number, log_index LIMIT $5`,
            [id, position.block, position.log_index, finalized, batch],
          )
        ).rows
        const dropped = candidates.filter((row) => row.free && !keepLog({ address: row.address, topics: row.topics ? row.topics.split(',') : [] }))
        // Checked again on delete: a capturer's events writer commits beside this transaction.
        if (dropped.length > 0)
          rows += (
            await client.query(
              `DELETE FROM chain_logs WHERE connection_id = $1 AND (block_hash, log_index) IN (SELECT * FROM unnest($2::text[], $3::bigint[])) AND ${UNREFERENCED}`,
              [id, dropped.map((r) => r.block_hash), dropped.map((r) => r.log_index)],
            )
          ).rowCount!
        const last = candidates.at(-1)
        if (last)
          await client.query('UPDATE chain_cursor SET logs_pruned_block = $2, logs_pruned_index = $3 WHERE connection_id = $1', [
            id,
            last.block_number,
            last.log_index,
          ])
        return { rows, done: candidates.length < batch && orphans.length < batch && blocks < batch }
      },
      { rows: 0, done: true },
    )
    // The window follows: final orphans and canonical blocks below the finalized one go, with their logs.
    if (result.done) {
      for (const held of [...this.byHash.values()]) {
        const final = held.canonical ? held.block.number < finalized : held.block.number <= finalized
        if (!final) continue
        this.byHash.delete(held.block.hash)
        if (this.canonicalByNumber.get(held.block.number) === held) this.canonicalByNumber.delete(held.block.number)
      }
      for (const held of this.canonicalByNumber.values())
        if (held.block.number <= finalized) for (const [index, entry] of held.logs) if (!keepLog(entry.log)) held.logs.delete(index)
    }
    return result
  }

  oldestCanonical(): number | undefined {
    let oldest: number | undefined
    for (const number of this.canonicalByNumber.keys()) if (oldest === undefined || number < oldest) oldest = number
    return oldest
  }

  blockAt(number: number): { hash: string; parentHash: string } | undefined {
    let found = this.canonicalByNumber.get(number)
    if (!found) for (const held of this.byHash.values()) if (held.block.number === number) found = held
    return found ? { hash: found.block.hash, parentHash: found.block.parentHash } : undefined
  }

  canonicalHash(number: number): string | undefined {
    return this.canonicalByNumber.get(number)?.block.hash
  }

  canonicalRange(from: number, to: number): BlockWithLogs[] {
    return [...this.canonicalByNumber.values()]
      .filter((held) => held.block.number >= from && held.block.number <= to)
      .sort((a, b) => a.block.number - b.block.number)
      .map((held) => ({ block: held.block, logs: logsOf(held, true) }))
  }

  branchOf(hash: string): ChainBranch {
    const orphaned: BlockWithLogs[] = []
    let current = this.byHash.get(hash.toLowerCase())
    while (current) {
      if (current.canonical)
        return orphaned.length === 0 ? { state: 'canonical', number: current.block.number } : { state: 'orphaned', orphaned, ancestor: current.block.number }
      orphaned.push({ block: current.block, logs: logsOf(current, false) })
      current = this.byHash.get(current.block.parentHash)
    }
    return orphaned.length === 0 ? { state: 'unknown' } : { state: 'unknown', orphaned }
  }

  canonicalLogs(from: number, to: number): ChainLog[] {
    return this.canonicalRange(from, to).flatMap((b) => b.logs)
  }

  /** A block into the window (canonical: at its height, in place of whatever was there). */
  private hold(block: ChainBlock, canonical: boolean): HeldBlock {
    let held = this.byHash.get(block.hash)
    if (!held) this.byHash.set(block.hash, (held = { block, canonical, logs: new Map() }))
    held.canonical = canonical
    if (canonical) this.canonicalByNumber.set(block.number, held)
    return held
  }

  /** `work` in one transaction, after the writes before it; a follower's chain runs none and answers `inMemory`. */
  private write<T>(work: (client: PoolClient) => Promise<T>, inMemory: T): Promise<T> {
    if (this.options.inMemory) return Promise.resolve(inMemory)
    const run = async (): Promise<T> => {
      const client = await this.pool.connect()
      try {
        await client.query('BEGIN')
        const result = await work(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        // Nothing of this write is stored: the next one moves from the committed cursor.
        this.chainHead = this.current?.hash ?? null
        throw error
      } finally {
        client.release()
      }
    }
    // A write made after one that failed fails too, unrun: the chain must not go on past a block that was not stored.
    const next = this.lastWrite.then(run)
    this.lastWrite = next
    next.catch(() => {
      // The failure ends with the last write made: the tracker's retry starts afresh.
      if (this.lastWrite === next) this.lastWrite = Promise.resolve()
    })
    return next
  }
}

/** A held block's logs in log-index order: the canonical ones, or all (an orphaned block's, for taking them back). */
function logsOf(held: HeldBlock, canonicalOnly: boolean): ChainLog[] {
  return [...held.logs.values()]
    .filter((entry) => !canonicalOnly || entry.canonical)
    .map((entry) => entry.log)
    .sort((a, b) => a.logIndex - b.logIndex)
}
