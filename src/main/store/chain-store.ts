/**
 * The tracker's chain in domain terms: blocks, logs as the upstream sent them, the cursor,
 * and the store every backend implements (SQLite: sqlite-chain-store.ts; PostgreSQL:
 * postgres/chain-store.ts). Orphaned blocks and their logs stay (not canonical) until they
 * are final, so a client's cursor on an orphaned block can be taken back exactly, across
 * restarts; after that the pruner removes them, and what is final is served from the upstream.
 */

export interface ChainBlock {
  number: number
  hash: string
  parentHash: string
  timestamp: number
  header: Record<string, unknown>
}

export interface ChainLog {
  blockHash: string
  blockNumber: number
  logIndex: number
  transactionHash: string
  transactionIndex: number
  address: string
  topics: string[]
  data: string
  /** The upstream's log object as received, every field included (PROTOCOL.md section 1 rule 7). */
  raw: Record<string, unknown>
}

/** Which logs a watch wants (eth_getLogs' address and topics, lowercase). */
export interface LogFilter {
  /** Lowercase addresses; absent = any. */
  address?: string[]
  /** Position-wise: null = any, array = any of (lowercase). */
  topics?: (string[] | null)[]
}

/**
 * What another instance sharing the store asked for its /v1/stream and /v1/rpc clients
 * (PostgreSQL's followers): a filter, whose logs the capturing instance fetches and stores
 * too; or prompt finality (no filter), for an irreversible_only client.
 */
export interface SharedFilter {
  id: number
  filter: LogFilter | null
  promptFinality: boolean
}

export interface Cursor {
  firstBlock: number
  number: number
  hash: string
  finalized: number
}

/** A log as eth_getLogs answers it (hex quantities). */
export interface RawLog {
  blockHash: string
  /** Some nodes leave it out of eth_getLogs by block hash; the tracker fills it in from the block. */
  blockNumber?: string
  logIndex: string
  transactionHash: string
  transactionIndex: string
  address: string
  topics: string[]
  data: string
  [field: string]: unknown
}

export function toChainLog(raw: RawLog): ChainLog {
  return {
    blockHash: raw.blockHash.toLowerCase(),
    blockNumber: Number(raw.blockNumber),
    logIndex: Number(raw.logIndex),
    transactionHash: raw.transactionHash.toLowerCase(),
    transactionIndex: Number(raw.transactionIndex),
    address: raw.address.toLowerCase(),
    topics: raw.topics.map((t) => t.toLowerCase()),
    data: raw.data,
    raw,
  }
}
/** A block with the logs the registered filters match. */
export interface BlockWithLogs {
  block: ChainBlock
  logs: ChainLog[]
}

/** Where a block the store once held stands now (ChainStore.branchOf). */
export type ChainBranch =
  | { state: 'canonical'; number: number }
  | { state: 'orphaned'; orphaned: BlockWithLogs[]; ancestor: number }
  /**
   * Not held, or held on a branch whose fork point is not: `orphaned` (newest first) then
   * names the branch down to the oldest block held, whose parent only the upstream can
   * vouch for (a reorg reaching below the first block tracked).
   */
  | { state: 'unknown'; orphaned?: BlockWithLogs[] }

/**
 * One connection's chain, as the tracker changes it: append canonical blocks with their
 * logs, orphan above a block, finalize up to a block, prune what finality made useless.
 * Writes resolve once committed, in the order made; until then the store answers as before
 * them. Reads answer at once (the local file, or the backend's window of non-final blocks
 * held in memory), so a watch reading the store sees no tracker event in between.
 */
export interface ChainStore {
  /** The last stored canonical block, where tracking began, and the finalized block; none before the first block. */
  cursor(): Cursor | undefined
  /** Commits captured rows still queued and says whether none is left (before a pruning pass: a row on its way may point at a log). */
  settled(): Promise<boolean>
  /** Stores canonical blocks (in chain order) with all their logs and advances the cursor to the last, atomically. */
  appendBlocks(blocks: BlockWithLogs[], firstBlock: number): Promise<void>
  /**
   * Logs of blocks already stored (a filter registered late: its matches in the non-final
   * range). `completes`: the shared filters these are the matches of, active from this write on.
   */
  insertLogs(logs: ChainLog[], completes?: readonly number[]): Promise<void>
  /** Filters other instances sharing the store asked for (none on SQLite, whose file one process owns). */
  sharedFilters(): readonly SharedFilter[]
  /** Calls `listener` when sharedFilters() changes; returns the unsubscribe. */
  onSharedFiltersChanged(listener: () => void): () => void
  /** Marks canonical blocks above `ancestor` (and their logs) orphaned and moves the cursor there; returns them newest first. */
  orphanAbove(ancestor: { number: number; hash: string }): Promise<BlockWithLogs[]>
  /** Finality moved to `number` (never back). */
  setFinalized(number: number): Promise<void>
  /**
   * One batch of pruning at or below `finalized`: orphaned blocks and their logs, canonical
   * blocks below it (the finalized block stays, the anchor for walking a fork back),
   * canonical logs `keepLog` does not want. A log a captured event points at stays either way.
   */
  pruneFinal(finalized: number, batch: number, keepLog: (log: Pick<ChainLog, 'address' | 'topics'>) => boolean): Promise<{ rows: number; done: boolean }>
  /** The lowest canonical block still stored. */
  oldestCanonical(): number | undefined
  /** Any stored block at this height (canonical preferred), for comparing parents. */
  blockAt(number: number): { hash: string; parentHash: string } | undefined
  canonicalHash(number: number): string | undefined
  /** Canonical blocks in [from, to] with their logs, oldest first. */
  canonicalRange(from: number, to: number): BlockWithLogs[]
  /**
   * Where a block the store once held stands now: still canonical; orphaned, with the
   * orphaned blocks of its branch from it down to the fork point (newest first, with their
   * logs) and the fork point itself; or unknown (never stored, or its branch left the store).
   */
  branchOf(hash: string): ChainBranch
  /** Every canonical log in [from, to], in order. */
  canonicalLogs(from: number, to: number): ChainLog[]
}

/** What a follower's window changed by since its last catch-up (FollowedChainStore.catchUp). */
export interface ChainChanges {
  /** Blocks that left the canonical chain, newest first, with their logs; `ancestor` is where the chain forks. */
  orphaned: BlockWithLogs[]
  ancestor: { number: number; hash: string } | null
  /** New canonical blocks with their logs, oldest first. */
  appended: BlockWithLogs[]
  /** The finalized block, when it moved. */
  finalized: number | null
  /** This follower's shared filters (by the key shareFilter gave) whose matches the store holds for every non-final canonical block. */
  activeFilters: ReadonlySet<number>
}

/**
 * A connection's chain as another instance captures it (PostgreSQL): the window the capturer
 * stored, read at open and brought up to date by `catchUp` whenever the change feed says the
 * chain changed. Its filters are registered in the store for the capturer to fetch.
 */
export interface FollowedChainStore extends ChainReads {
  /**
   * Reads what the capturer committed since the window was last brought up to date; the step
   * it resolves to applies all of it to the window at once and says what changed (call it at
   * once, before the next catch-up).
   */
  catchUp(): Promise<() => ChainChanges>
  /** Calls `listener` when a catch-up is due (the capturer committed a change, or the feed was lost and found again). */
  onChanged(listener: () => void): () => void
  /** Asks the capturer to fetch and store this filter's logs; returns its key (ChainChanges.activeFilters). */
  shareFilter(filter: LogFilter): number
  /** Asks the capturer to ask for finality on every block (an irreversible_only client); returns its key. */
  sharePromptFinality(): number
  /** Takes back what shareFilter or sharePromptFinality asked. */
  unshare(key: number): void
  /** Stops following: listeners, timers and this follower's shared filters go. */
  close(): Promise<void>
}

/** What a watch reads of a chain store: answered at once, from the file or the window held in memory. */
export type ChainReads = Pick<ChainStore, 'cursor' | 'oldestCanonical' | 'blockAt' | 'canonicalHash' | 'canonicalRange' | 'branchOf' | 'canonicalLogs'>

/**
 * The log object to send: the upstream's own, unchanged, or with `removed: true` when a
 * reorg takes it back (geth's semantics: the same log again, flagged).
 */
export function wireLog(log: ChainLog, removed: boolean): Record<string, unknown> {
  return removed ? { ...log.raw, removed: true } : log.raw
}

export interface StoredLog {
  connectionId: number
  address: string
  topics: string[]
  data: string
  blockNumber: number
  transactionHash: string
  canonical: boolean
}

/** The chain_blocks columns a ChainBlock is read from, on both backends. */
export interface ChainBlockRow {
  number: number
  hash: string
  parent_hash: string
  timestamp: number
  header_json: string
}

export function chainBlockFromRow(row: ChainBlockRow): ChainBlock {
  return {
    number: row.number,
    hash: row.hash,
    parentHash: row.parent_hash,
    timestamp: row.timestamp,
    header: JSON.parse(row.header_json) as Record<string, unknown>,
  }
}

/** The chain_logs columns a StoredLog is read from (canonical: SQLite's 0/1, PostgreSQL's boolean). */
export interface StoredLogRow {
  connection_id: number
  address: string
  topics: string
  data: string
  block_number: number
  tx_hash: string
  canonical: number | boolean
}

export function storedLogFromRow(row: StoredLogRow): StoredLog {
  return {
    connectionId: row.connection_id,
    address: row.address,
    topics: row.topics.split(','),
    data: row.data,
    blockNumber: row.block_number,
    transactionHash: row.tx_hash,
    canonical: row.canonical === true || row.canonical === 1,
  }
}
