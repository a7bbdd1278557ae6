/**
 * What the engine's services need of a store, whichever database holds it: SQLite's
 * TidewatchStore (the embedded default) or PostgreSQL's PostgresEngineStore (a store shared
 * by several capturers and viewers, issue 13).
 *
 * The small configuration tables (connections, subscriptions, ABIs, watchlist, settings,
 * token metadata) answer synchronously on both: PostgreSQL's are held in memory and written
 * through. Pages of events and heads, counts, pruning and deletions may answer later
 * (`MaybePromise`): SQLite answers at once, PostgreSQL over the network, and the services
 * await either.
 */
import type { Head } from '../../shared/contract'
import type { CaptureWriter, EventsCommitted } from './capture-writer'
import type { ChainStore, FollowedChainStore, StoredLog } from './chain-store'
import type { AbiStoreApi } from './abi-store'
import type { ConnectionStoreApi } from './connection-store'
import type { WriteGate } from './database'
import type { EventQuery, ExportQuery, ListedEvent, SearchOptions, SearchPage, StoredEventRow } from './event-store'
import type { HeadsCommitted, NewHead } from './head-store'
import type { StorageUse } from './retention-store'
import type { SettingsStoreApi } from './settings-store'
import type { StorageHealth } from './storage-health'
import type { SubscriptionStoreApi } from './subscription-store'
import type { TokenMetadataStoreApi } from './token-metadata-store'
import type { WatchlistStoreApi } from './watchlist-store'

export type MaybePromise<T> = T | Promise<T>

export type { ConnectionStoreApi } from './connection-store'
export type { SubscriptionStoreApi } from './subscription-store'
export type { AbiStoreApi } from './abi-store'
export type { WatchlistStoreApi } from './watchlist-store'
export type { SettingsStoreApi } from './settings-store'
export type { TokenMetadataStoreApi } from './token-metadata-store'

/** Heads for the charts: queued and written in batches, read in pages; the latest per connection at once. */
export interface HeadsApi {
  enqueue(head: NewHead): void
  enqueueTxCount(connectionId: number, hash: string, txCount: number): void
  /** Starts committing what is queued (SQLite commits before returning). */
  flush(): void
  /** Resolves once everything queued so far has been tried (committed, or held for a retry). */
  settle(): Promise<void>
  readonly pendingCount: number
  list(query: { connectionId?: number | undefined; limit: number; beforeId?: number | undefined }): MaybePromise<Head[]>
  /** The highest stored head of the connection. */
  latest(connectionId: number): Head | undefined
}

/** Capture's writes (CaptureWriter) and the reads of captured events. */
export interface EventsApi extends CaptureWriter {
  list(query: EventQuery): MaybePromise<ListedEvent[]>
  /** A page that reads for a bounded time: what it found, and where the next page starts (event-query.ts, searchBySlices). */
  search(query: EventQuery, options?: SearchOptions): MaybePromise<SearchPage>
  /** An export's rows, oldest first, in pages. */
  iterate(query: ExportQuery): { total: MaybePromise<number>; pages: Iterable<StoredEventRow[]> | AsyncIterable<StoredEventRow[]> }
  lastId(): MaybePromise<number>
  countByStreamBetween(afterId: number, upToId: number): MaybePromise<Map<number, number>>
  lastAtOf(streamId: number, upToId: number): MaybePromise<number | null>
  countByStream(): MaybePromise<Map<number, { count: number; lastAt: number | null }>>
}

/**
 * Told when this instance may capture a connection, and when it must stop (PostgreSQL:
 * another instance captures it). Between turns an instance follows the connection: its
 * /v1/stream and /v1/rpc clients are served from the chain the capturer stores, as the change
 * feed announces it (FollowedChainStore), and it captures nothing.
 */
export interface CaptureTurn {
  /** This instance captures the connection now, into `chain` (loaded with what the store holds). */
  capture(chain: ChainStore): void
  /** Another instance captures the connection: follow the chain it stores. */
  follow(chain: FollowedChainStore): void
  /** Stop capturing at once: another instance may already be capturing. `follow` comes next. */
  stop(reason: string): void
}

export interface EngineStore {
  /** Where the store is, for logs and the UI: the file, or the database URL without its password. */
  readonly location: string
  /** Storage faults (locked, full, unreachable), said once to the log and the UI. */
  readonly health: StorageHealth
  /** Main-thread writes to the configuration tables. */
  readonly writeGate: WriteGate
  readonly connections: ConnectionStoreApi
  readonly subscriptions: SubscriptionStoreApi
  readonly abis: AbiStoreApi
  readonly watchlist: WatchlistStoreApi
  readonly settings: SettingsStoreApi
  readonly tokens: TokenMetadataStoreApi
  readonly heads: HeadsApi
  readonly events: EventsApi
  /**
   * Asks for the turn to capture a connection. SQLite: at once (one process owns the file).
   * PostgreSQL: when this instance holds the connection's lock (leadership.ts), and again
   * after each loss. The returned function gives the turn up (and waits until it is given up).
   */
  captureTurns(connectionId: number, turn: CaptureTurn): () => Promise<void>
  /**
   * Runs `step` while no other instance sharing the store runs one, with the configuration
   * read afresh first and the step's writes stored before the next step starts: a find-or-add
   * (serve's --rpc at start) then adds once however many instances start together. SQLite: at
   * once (one process owns the file).
   */
  serialized<T>(step: () => T | Promise<T>): Promise<T>
  /** Everything learned from one connection's chain: heads, the tracker's blocks and cursor, captured events, token metadata, watch positions. */
  forgetChain(connectionId: number): MaybePromise<void>
  /** A removed connection's captured events and heads. */
  deleteCaptured(connectionId: number): MaybePromise<void>
  /** Deletes up to `batch` heads (or events) received before `now - days`; how many went. */
  pruneHeads(connectionId: number, days: number, batch: number, now: number): MaybePromise<number>
  pruneEvents(connectionId: number, days: number, batch: number, now: number): MaybePromise<number>
  storageUse(connectionIds: readonly number[]): MaybePromise<StorageUse[]>
  /** Gives the space pruning freed back to the file system. */
  compact(): MaybePromise<{ bytesBefore: number; bytesAfter: number }>
  /** Stored logs of every connection with this topic0 and `topic` as topic1 or topic2, newest first. */
  logsByIndexedTopic(topic0: string, topic: string, limit: number): MaybePromise<StoredLog[]>
  /** Commits what is queued and closes. */
  close(): Promise<void>
}

/** What the store tells the engine (both backends; PostgreSQL's include other instances' commits). */
export interface EngineStoreListeners {
  onHeadsCommitted: (batch: HeadsCommitted) => void
  onEventsCommitted: (batches: EventsCommitted[]) => void
  onStoreError: (error: Error) => void
  /** The writes held in memory reached their cap (full) or were stored again. */
  onBacklog: (full: boolean, held: number) => void
  /** Another instance changed a configuration table (PostgreSQL); the store's copy is already read again. */
  onConfigChanged?: (table: ConfigTable) => void
  log: (message: string) => void
}

/** The configuration tables another instance sharing the store may change. */
export type ConfigTable = 'connections' | 'subscriptions' | 'watchlist' | 'abis' | 'settings' | 'token_metadata'

/** Opens the engine's store with the engine's listeners (SQLite: TidewatchStore; PostgreSQL: an opened PostgresEngineStore). */
export type EngineStoreFactory = (listeners: EngineStoreListeners) => EngineStore
