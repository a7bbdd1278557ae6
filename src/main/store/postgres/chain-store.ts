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
 *
 * Every other instance follows the chain (PostgresFollowedChain): the same window, read at
 * open and brought up to date from the store whenever the feed announces a change. Its
 * watches' filters go into stream_filters, which the capturer's tracker reads (sharedFilters)
 * and fetches for, marking each active in the transaction that stores its matches.
 */
import type { Pool, PoolClient } from 'pg'
import {
  chainBlockFromRow,
  type BlockWithLogs,
  type ChainBlock,
  type ChainBlockRow,
  type ChainBranch,
  type ChainChanges,
  type ChainLog,
  type ChainStore,
  type Cursor,
  type FollowedChainStore,
  type LogFilter,
  type SharedFilter,
} from '../chain-store'
import { z } from 'zod'
import { chainLogFromRow, encodeRawLog, type ChainLogRow } from '../raw-log'
import { CHANGES_CHANNEL, changePayloads, notifyChanges, type ChainChanged, type ChangeFeed, type StoreChange } from './change-feed'
import { describeError } from './session'

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
  /** Where followers' filter registrations are heard (chain changes of kind 'filters'); without it they are read at open only. */
  feed?: ChangeFeed
  /** How often filters whose follower stopped refreshing them are removed (ms); FILTER_SWEEP_MS. */
  filterSweepMs?: number
}

/** A follower refreshes its filters this often; the capturer removes those not refreshed for FILTER_EXPIRY_MS (a follower killed, or cut off). */
export const FILTER_REFRESH_MS = 20_000
export const FILTER_EXPIRY_MS = 90_000
const FILTER_SWEEP_MS = 30_000
/** The database's clock in ms: instances on several machines share it. */
const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint'

/** A filter as a follower wrote it: parsed, never trusted (the table is shared by every instance). */
const storedFilterSchema = z.object({
  address: z
    .array(z.string().regex(/^0x[0-9a-f]{40}$/))
    .max(1_000)
    .optional(),
  topics: z
    .array(
      z
        .array(z.string().regex(/^0x[0-9a-f]{64}$/))
        .max(1_000)
        .nullable(),
    )
    .max(4)
    .optional(),
})

/**
 * The window of stored blocks a chain store holds in memory (every stored block: the
 * non-final ones, orphans until they are final, the finalized anchor), and the reads
 * ChainStore promises, answered from it.
 */
abstract class WindowedChain {
  protected readonly byHash = new Map<string, HeldBlock>()
  protected readonly canonicalByNumber = new Map<number, HeldBlock>()
  protected current: Cursor | undefined

  constructor(
    protected readonly pool: Pool,
    protected readonly connectionId: number,
  ) {}

  cursor(): Cursor | undefined {
    return this.current
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

  /** The connection's stored cursor and every stored block with its logs, read into the (empty) window. */
  protected async load(db: Queryable): Promise<void> {
    const id = this.connectionId
    const cursor = await db.query<CursorRow>('SELECT first_block, number, hash, finalized FROM chain_cursor WHERE connection_id = $1', [id])
    const row = cursor.rows[0]
    this.current = row ? cursorFromRow(row) : undefined
    const blocks = await db.query<ChainBlockRow & { canonical: boolean }>(
      'SELECT number, hash, parent_hash, timestamp, header_json, canonical FROM chain_blocks WHERE connection_id = $1 ORDER BY number',
      [id],
    )
    for (const b of blocks.rows) this.hold(chainBlockFromRow(b), b.canonical)
    // Logs of held blocks only: captured logs outlive their pruned blocks, and are the events' business.
    const logs = await db.query<ChainLogRow & { canonical: boolean }>(
      `SELECT l.block_hash, l.block_number, l.log_index, l.tx_hash, l.tx_index, l.address, l.topics, l.data, l.raw_json, l.canonical
       FROM chain_logs l JOIN chain_blocks b ON b.connection_id = l.connection_id AND b.hash = l.block_hash
       WHERE l.connection_id = $1 ORDER BY l.block_number, l.log_index`,
      [id],
    )
    for (const l of logs.rows) this.byHash.get(l.block_hash)?.logs.set(l.log_index, { log: chainLogFromRow(l), canonical: l.canonical })
  }

  /** A block into the window (canonical: at its height, in place of whatever was there). */
  protected hold(block: ChainBlock, canonical: boolean): HeldBlock {
    let held = this.byHash.get(block.hash)
    if (!held) this.byHash.set(block.hash, (held = { block, canonical, logs: new Map() }))
    held.canonical = canonical
    if (canonical) this.canonicalByNumber.set(block.number, held)
    return held
  }

  /** Canonical blocks above `ancestor` leave the canonical chain (kept, orphaned, until final); returned newest first. */
  protected orphanHeld(ancestor: { number: number }): BlockWithLogs[] {
    const orphaned = this.canonicalRange(ancestor.number + 1, Number.MAX_SAFE_INTEGER).reverse()
    for (const held of this.byHash.values()) {
      if (held.block.number <= ancestor.number) continue
      held.canonical = false
      for (const entry of held.logs.values()) entry.canonical = false
      if (this.canonicalByNumber.get(held.block.number) === held) this.canonicalByNumber.delete(held.block.number)
    }
    return orphaned
  }

  /** Final orphans and canonical blocks below the finalized one leave the window, with their logs. */
  protected dropFinal(finalized: number): void {
    for (const held of [...this.byHash.values()]) {
      const final = held.canonical ? held.block.number < finalized : held.block.number <= finalized
      if (!final) continue
      this.byHash.delete(held.block.hash)
      if (this.canonicalByNumber.get(held.block.number) === held) this.canonicalByNumber.delete(held.block.number)
    }
  }
}

/**
 * The chain of a connection this instance captures: the window plus the writes, each one
 * transaction after the last. Followers' filters (stream_filters) are read at open and
 * again whenever the feed says they changed, for the tracker to fetch their logs.
 */
export class PostgresChainStore extends WindowedChain implements ChainStore {
  /** The cursor hash the next write moves from: the last write made (committed or on its way), or the committed cursor after a failure. */
  private chainHead: string | null = null
  /** The last write made: the next one starts after it has settled. */
  private lastWrite: Promise<unknown> = Promise.resolve()
  private shared: SharedFilter[] = []
  private readonly sharedListeners = new Set<() => void>()
  private readonly detach: (() => void)[] = []
  private refreshing: Promise<void> | null = null
  private refreshAgain = false

  private constructor(
    pool: Pool,
    connectionId: number,
    private readonly options: PostgresChainStoreOptions,
  ) {
    super(pool, connectionId)
  }

  /** The connection's stored chain, read into the window, with the followers' filters. */
  static async open(pool: Pool, connectionId: number, options: PostgresChainStoreOptions = {}): Promise<PostgresChainStore> {
    const store = new PostgresChainStore(pool, connectionId, options)
    await store.load(pool)
    store.chainHead = store.current?.hash ?? null
    store.shared = await store.readSharedFilters()
    const feed = options.feed
    if (feed) {
      const onChain = (change: ChainChanged): void => {
        if (change.connectionId === connectionId && change.kind === 'filters') store.refreshSharedFilters()
      }
      const onResync = (): void => store.refreshSharedFilters()
      feed.on('chain', onChain)
      feed.on('resync', onResync)
      store.detach.push(
        () => feed.off('chain', onChain),
        () => feed.off('resync', onResync),
      )
    }
    const sweep = setInterval(() => store.refreshSharedFilters(true), options.filterSweepMs ?? FILTER_SWEEP_MS).unref()
    store.detach.push(() => clearInterval(sweep))
    return store
  }

  /** Stops hearing about followers' filters (the turn to capture ended). */
  close(): void {
    for (const off of this.detach.splice(0)) off()
  }

  settled(): Promise<boolean> {
    return this.options.settleCaptured?.() ?? Promise.resolve(true)
  }

  sharedFilters(): readonly SharedFilter[] {
    return this.shared
  }

  onSharedFiltersChanged(listener: () => void): () => void {
    this.sharedListeners.add(listener)
    return () => this.sharedListeners.delete(listener)
  }

  /** Reads the followers' filters again (`sweep`: first removing those no follower refreshed in FILTER_EXPIRY_MS); calls coalesce. */
  private refreshSharedFilters(sweep = false): void {
    if (this.refreshing) {
      this.refreshAgain = true
      return
    }
    this.refreshing = (async () => {
      if (sweep)
        await this.pool.query(`DELETE FROM stream_filters WHERE connection_id = $1 AND seen_at < ${DB_NOW_MS} - $2`, [this.connectionId, FILTER_EXPIRY_MS])
      const next = await this.readSharedFilters()
      const key = (filters: readonly SharedFilter[]) => filters.map((f) => `${f.id}${f.promptFinality ? 'p' : ''}`).join(',')
      if (key(next) === key(this.shared)) return
      this.shared = next
      for (const listener of this.sharedListeners) listener()
    })()
      .catch(() => {
        // PostgreSQL is unreachable: the feed's resync (or the next sweep) reads them again.
      })
      .finally(() => {
        this.refreshing = null
        if (this.refreshAgain) {
          this.refreshAgain = false
          this.refreshSharedFilters()
        }
      })
  }

  private async readSharedFilters(): Promise<SharedFilter[]> {
    const { rows } = await this.pool.query<{ id: string | number; filter_json: string | null; prompt_finality: boolean }>(
      'SELECT id, filter_json, prompt_finality FROM stream_filters WHERE connection_id = $1 ORDER BY id',
      [this.connectionId],
    )
    const filters: SharedFilter[] = []
    for (const row of rows) {
      if (row.filter_json === null) {
        filters.push({ id: Number(row.id), filter: null, promptFinality: row.prompt_finality })
        continue
      }
      const parsed = storedFilterSchema.safeParse(parseJson(row.filter_json))
      // A row no Tidewatch wrote: never fetched for, never crashes the capturer.
      if (parsed.success) filters.push({ id: Number(row.id), filter: withoutUndefined(parsed.data), promptFinality: row.prompt_finality })
    }
    return filters
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
    })
    for (const { block, logs } of blocks) {
      const held = this.hold(block, true)
      for (const log of logs) held.logs.set(log.logIndex, { log, canonical: true })
    }
    this.current = { firstBlock: this.current?.firstBlock ?? firstBlock, number: last.number, hash: last.hash, finalized: this.current?.finalized ?? -1 }
  }

  async insertLogs(logs: ChainLog[], completes: readonly number[] = []): Promise<void> {
    if (logs.length === 0 && completes.length === 0) return
    await this.write(async (client) => {
      await this.insertLogRows(client, logs)
      if (completes.length === 0) return
      // In the same transaction as the logs: a follower that hears the filter is active finds them stored.
      await client.query('UPDATE stream_filters SET active = TRUE WHERE connection_id = $1 AND id = ANY($2::bigint[])', [this.connectionId, completes])
      await notifyChanges(client, [{ change: 'chain', connectionId: this.connectionId, kind: 'filters', number: 0 }])
    })
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
    })
    const orphaned = this.orphanHeld(ancestor)
    if (this.current) this.current = { ...this.current, number: ancestor.number, hash: ancestor.hash }
    return orphaned
  }

  async setFinalized(number: number): Promise<void> {
    await this.write(async (client) => {
      const moved = await client.query('UPDATE chain_cursor SET finalized = $1 WHERE connection_id = $2 AND finalized < $1', [number, this.connectionId])
      if (moved.rowCount) await notifyChanges(client, [{ change: 'chain', connectionId: this.connectionId, kind: 'finalized', number }])
    })
    if (this.current && this.current.finalized < number) this.current = { ...this.current, finalized: number }
  }

  async pruneFinal(
    finalized: number,
    batch: number,
    keepLog: (log: Pick<ChainLog, 'address' | 'topics'>) => boolean,
  ): Promise<{ rows: number; done: boolean }> {
    const id = this.connectionId
    const result = await this.write(async (client) => {
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
    })
    // The window follows: final orphans and canonical blocks below the finalized one go, with their logs.
    if (result.done) {
      this.dropFinal(finalized)
      for (const held of this.canonicalByNumber.values())
        if (held.block.number <= finalized) for (const [index, entry] of held.logs) if (!keepLog(entry.log)) held.logs.delete(index)
    }
    return result
  }

  /** `work` in one transaction, after the writes before it. */
  private write<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
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

export interface PostgresFollowedChainOptions {
  feed: ChangeFeed
  /** Who registers the filters (stream_filters.owner, for diagnostics): the instance's origin. */
  owner: string
  /** How often this follower's filters are marked as still wanted (ms); FILTER_REFRESH_MS. */
  refreshMs?: number
  log?: (message: string) => void
}

/** What this follower shared (a filter, or prompt finality): its row once inserted (null until then, or after the capturer swept it). */
interface SharedEntry {
  filter: LogFilter | null
  rowId: number | null
}

/**
 * The chain of a connection another instance captures, as that instance stores it: the
 * window read at open, brought up to date by catchUp (one snapshot of the cursor, the
 * canonical hashes, new blocks and their logs) whenever the change feed says the chain
 * changed. Nothing is written but this follower's filters, which the capturer fetches.
 */
export class PostgresFollowedChain extends WindowedChain implements FollowedChainStore {
  private readonly entries = new Map<number, SharedEntry>()
  private nextKey = 0
  /** Inserts, refreshes and deletes of this follower's filters, one after the other. */
  private filterWork: Promise<void> = Promise.resolve()
  private readonly changeListeners = new Set<() => void>()
  private readonly detach: (() => void)[] = []
  private closed = false

  private constructor(
    pool: Pool,
    connectionId: number,
    private readonly options: PostgresFollowedChainOptions,
  ) {
    super(pool, connectionId)
  }

  static async open(pool: Pool, connectionId: number, options: PostgresFollowedChainOptions): Promise<PostgresFollowedChain> {
    const chain = new PostgresFollowedChain(pool, connectionId, options)
    const { feed } = options
    // Listening before the read: a change committed in between is heard, and read again at the next catch-up.
    const onChain = (change: ChainChanged): void => {
      if (change.connectionId === connectionId) chain.changed()
    }
    const onResync = (): void => {
      // This follower's filters may have been swept while it heard nothing: marked wanted (inserted again) first.
      chain.refreshFilters()
      chain.changed()
    }
    feed.on('chain', onChain)
    feed.on('resync', onResync)
    chain.detach.push(
      () => feed.off('chain', onChain),
      () => feed.off('resync', onResync),
    )
    const refresh = setInterval(() => chain.refreshFilters(), options.refreshMs ?? FILTER_REFRESH_MS).unref()
    chain.detach.push(() => clearInterval(refresh))
    try {
      await chain.load(pool)
    } catch (error) {
      for (const off of chain.detach.splice(0)) off()
      throw error
    }
    return chain
  }

  onChanged(listener: () => void): () => void {
    this.changeListeners.add(listener)
    return () => this.changeListeners.delete(listener)
  }

  private changed(): void {
    if (!this.closed) for (const listener of this.changeListeners) listener()
  }

  shareFilter(filter: LogFilter): number {
    return this.share(filter)
  }

  sharePromptFinality(): number {
    return this.share(null)
  }

  private share(filter: LogFilter | null): number {
    const key = ++this.nextKey
    this.entries.set(key, { filter, rowId: null })
    this.filterTask(() => this.insertMissing())
    return key
  }

  unshare(key: number): void {
    const entry = this.entries.get(key)
    this.entries.delete(key)
    if (entry) this.filterTask(() => this.deleteRows([entry]))
  }

  async close(): Promise<void> {
    this.closed = true
    for (const off of this.detach.splice(0)) off()
    const entries = [...this.entries.values()]
    this.entries.clear()
    this.filterTask(() => this.deleteRows(entries))
    await this.filterWork
  }

  /** Deletes these entries' rows and tells the capturer; run after the tasks before it, so a row whose insert was on its way goes too. */
  private async deleteRows(entries: SharedEntry[]): Promise<void> {
    const ids = entries.flatMap((entry) => (entry.rowId === null ? [] : [entry.rowId]))
    if (ids.length === 0) return
    await this.pool.query('WITH gone AS (DELETE FROM stream_filters WHERE id = ANY($1::bigint[])) SELECT pg_notify($2, $3)', [
      ids,
      CHANGES_CHANNEL,
      changePayloads(this.filtersChange())[0],
    ])
  }

  private filtersChange(): StoreChange {
    return { change: 'chain', connectionId: this.connectionId, kind: 'filters', number: 0 }
  }

  private filterTask(task: () => Promise<void>): void {
    this.filterWork = this.filterWork.then(task).catch((error: unknown) => {
      // PostgreSQL is unreachable: the next refresh (every FILTER_REFRESH_MS, and on the feed's resync) tries again.
      this.options.log?.(`connection ${this.connectionId}: registering stream filters with the capturer failed (${describeError(error)}); trying again`)
    })
  }

  /** Marks this follower's filters as still wanted; those the capturer swept (or never got) are inserted again, inactive. */
  private refreshFilters(): void {
    this.filterTask(async () => {
      const held = [...this.entries.values()].filter((e) => e.rowId !== null)
      if (held.length > 0) {
        const { rows } = await this.pool.query<{ id: string | number }>(
          `UPDATE stream_filters SET seen_at = ${DB_NOW_MS} WHERE id = ANY($1::bigint[]) RETURNING id`,
          [held.map((e) => e.rowId)],
        )
        const still = new Set(rows.map((r) => Number(r.id)))
        for (const entry of held) if (!still.has(entry.rowId!)) entry.rowId = null
      }
      await this.insertMissing()
    })
  }

  private async insertMissing(): Promise<void> {
    const missing = [...this.entries.values()].filter((e) => e.rowId === null)
    if (missing.length === 0) return
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query<{ id: string | number }>(
        `INSERT INTO stream_filters (connection_id, filter_json, prompt_finality, owner, seen_at)
         SELECT $1, f, f IS NULL, $2, ${DB_NOW_MS} FROM unnest($3::text[]) WITH ORDINALITY AS t(f, n) ORDER BY n RETURNING id`,
        [this.connectionId, this.options.owner, missing.map((e) => (e.filter === null ? null : JSON.stringify(e.filter)))],
      )
      await notifyChanges(client, [this.filtersChange()])
      await client.query('COMMIT')
      // RETURNING follows the insert's order, which follows the ordinality.
      rows.forEach((row, i) => (missing[i]!.rowId = Number(row.id)))
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  async catchUp(): Promise<() => ChainChanges> {
    const client = await this.pool.connect()
    try {
      // One snapshot: the cursor, the canonical flags, the blocks and logs all as of one moment.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const apply = await this.readChanges(client)
      await client.query('COMMIT')
      return apply
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  /**
   * Reads, without touching the window, what changed since it was last brought up to date;
   * returns the step that applies it all at once, so no read of the window (a watch's) ever
   * sees half of a catch-up.
   */
  private async readChanges(client: PoolClient): Promise<() => ChainChanges> {
    const id = this.connectionId
    const row = (await client.query<CursorRow>('SELECT first_block, number, hash, finalized FROM chain_cursor WHERE connection_id = $1', [id])).rows[0]
    const activeFilters = await this.activeKeys(client)
    const nothing = (): ChainChanges => ({ orphaned: [], ancestor: null, appended: [], finalized: null, activeFilters })
    if (!row) return nothing
    const theirs = cursorFromRow(row)
    const ours = this.current
    // The fork point: the highest held canonical block the store still has canonical (final blocks it pruned cannot have moved).
    let ancestor: { number: number; hash: string } | null = null
    if (ours) {
      const lowest = this.oldestCanonical() ?? ours.number
      const { rows } = await client.query<{ number: number; hash: string }>(
        'SELECT number, hash FROM chain_blocks WHERE connection_id = $1 AND canonical AND number BETWEEN $2 AND $3',
        [id, lowest, ours.number],
      )
      const stored = new Map(rows.map((r) => [Number(r.number), r.hash]))
      const agrees = (n: number): boolean => {
        const hash = stored.get(n)
        return hash === undefined ? n <= theirs.finalized && n <= theirs.number : hash === this.canonicalHash(n)
      }
      let n = ours.number
      while (n >= lowest && !agrees(n)) n -= 1
      if (n < ours.number)
        ancestor = n >= lowest ? { number: n, hash: this.canonicalHash(n)! } : { number: lowest - 1, hash: this.blockAt(lowest)?.parentHash ?? '' }
    }
    const from = ancestor?.number ?? ours?.number ?? -1
    const blocks =
      theirs.number > from
        ? (
            await client.query<ChainBlockRow>(
              'SELECT number, hash, parent_hash, timestamp, header_json FROM chain_blocks WHERE connection_id = $1 AND canonical AND number > $2 AND number <= $3 ORDER BY number',
              [id, from, theirs.number],
            )
          ).rows.map(chainBlockFromRow)
        : []
    const newlyActive = [...activeFilters].some((key) => !this.reportedActive.has(key))
    // A filter just became active: the capturer stored its matches in the blocks this window holds too.
    const heldHashes = newlyActive ? [...this.canonicalByNumber.values()].filter((held) => held.block.number <= from).map((held) => held.block.hash) : []
    const logs = await this.readLogs(client, [...blocks.map((b) => b.hash), ...heldHashes])

    return () => {
      const changes = nothing()
      if (ancestor && ours) {
        changes.orphaned = this.orphanHeld(ancestor)
        changes.ancestor = ancestor
      }
      const appended = blocks.map((block) => this.hold(block, true))
      for (const log of logs) {
        const held = this.byHash.get(log.blockHash)
        held?.logs.set(log.logIndex, { log, canonical: held.canonical })
      }
      changes.appended = appended.map((held) => ({ block: held.block, logs: logsOf(held, true) }))
      this.reportedActive = new Set(activeFilters)
      const finalizedMoved = theirs.finalized > (ours?.finalized ?? -1)
      this.current = { firstBlock: theirs.firstBlock, number: theirs.number, hash: theirs.hash, finalized: theirs.finalized }
      if (finalizedMoved) {
        changes.finalized = theirs.finalized
        this.dropFinal(theirs.finalized)
      }
      return changes
    }
  }

  private reportedActive = new Set<number>()

  /** This follower's filters the capturer marked active, by key. */
  private async activeKeys(client: PoolClient): Promise<Set<number>> {
    const byRow = new Map<number, number>()
    for (const [key, entry] of this.entries) if (entry.rowId !== null && entry.filter !== null) byRow.set(entry.rowId, key)
    if (byRow.size === 0) return new Set()
    const { rows } = await client.query<{ id: string | number }>('SELECT id FROM stream_filters WHERE id = ANY($1::bigint[]) AND active', [[...byRow.keys()]])
    return new Set(rows.map((r) => byRow.get(Number(r.id))!))
  }

  /** Every stored log of these blocks. */
  private async readLogs(client: PoolClient, hashes: string[]): Promise<ChainLog[]> {
    if (hashes.length === 0) return []
    const { rows } = await client.query<ChainLogRow>(
      `SELECT block_hash, block_number, log_index, tx_hash, tx_index, address, topics, data, raw_json FROM chain_logs
       WHERE connection_id = $1 AND block_hash = ANY($2::text[]) ORDER BY block_number, log_index`,
      [this.connectionId, hashes],
    )
    return rows.map(chainLogFromRow)
  }
}

interface CursorRow {
  first_block: number
  number: number
  hash: string
  finalized: number
}

function cursorFromRow(row: CursorRow): Cursor {
  return { firstBlock: Number(row.first_block), number: Number(row.number), hash: row.hash, finalized: Number(row.finalized) }
}

type Queryable = Pick<Pool, 'query'>

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** zod's optional fields as LogFilter wants them: absent, not undefined. */
function withoutUndefined(filter: z.infer<typeof storedFilterSchema>): LogFilter {
  return {
    ...(filter.address ? { address: filter.address } : {}),
    ...(filter.topics ? { topics: filter.topics } : {}),
  }
}

/** A held block's logs in log-index order: the canonical ones, or all (an orphaned block's, for taking them back). */
function logsOf(held: HeldBlock, canonicalOnly: boolean): ChainLog[] {
  return [...held.logs.values()]
    .filter((entry) => !canonicalOnly || entry.canonical)
    .map((entry) => entry.log)
    .sort((a, b) => a.logIndex - b.logIndex)
}
