/**
 * The one SQLite file the engine captures into, opened once: every table's store, the write
 * gate main-thread writes go through, and the storage health that reports faults. The only
 * holder of the database handle; the engine's services get the named stores, never the handle.
 */
import fs from 'node:fs'
import path from 'node:path'
import { AbiStore } from './abi-store'
import type { ChainStore, StoredLog } from './chain-store'
import type { CaptureTurn, EngineStore, EngineStoreListeners } from './engine-store'
import { SqliteChainStore, forgetChain, logsByIndexedTopic } from './sqlite-chain-store'
import { ConnectionStore } from './connection-store'
import { openDatabase, type Db, type WriteGate } from './database'
import { EventStore } from './event-store'
import { HeadStore } from './head-store'
import { RetentionStore, type StorageUse } from './retention-store'
import type { SecretBox } from './secret-box'
import { SettingsStore } from './settings-store'
import { guardedWriteGate, StorageHealth } from './storage-health'
import { SubscriptionStore } from './subscription-store'
import { TokenMetadataStore } from './token-metadata-store'
import { WatchlistStore } from './watchlist-store'

export const DATABASE_FILE = 'tidewatch.sqlite'

export interface TidewatchStoreOptions extends EngineStoreListeners {
  dataDir: string
  secrets: SecretBox
  nativeBinding?: string | undefined
  /** Writes held in memory while the store refuses them, before capture pauses (EventStore's MAX_HELD_WRITES). */
  maxHeldWrites?: number | undefined
}

export class TidewatchStore implements EngineStore {
  readonly file: string
  readonly location: string
  /** Storage faults (locked, full, read-only, damaged), said once to the log and the UI. */
  readonly health: StorageHealth
  /** Main-thread writes: after the events writer thread, and held back while the store refuses writes. */
  readonly writeGate: WriteGate
  readonly connections: ConnectionStore
  readonly subscriptions: SubscriptionStore
  readonly heads: HeadStore
  readonly events: EventStore
  readonly abis: AbiStore
  readonly watchlist: WatchlistStore
  readonly settings: SettingsStore
  readonly tokens: TokenMetadataStore
  readonly retention: RetentionStore
  private readonly db: Db

  constructor(private readonly options: TidewatchStoreOptions) {
    const file = path.join(options.dataDir, DATABASE_FILE)
    this.file = file
    this.location = file
    this.health = new StorageHealth({
      file,
      log: options.log,
      // Asked before the stores exist when a damaged file is moved aside at open.
      pendingWrites: () => (this.events?.pendingCount ?? 0) + (this.heads?.pendingCount ?? 0),
    })
    this.db = openDatabase(file, {
      ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
      onDamagedMovedAside: (movedTo) =>
        this.health.noted(`the store ${file} was damaged or not a database; it was moved to ${movedTo} (kept, not changed) and a fresh store was created.`),
    })
    this.connections = new ConnectionStore(this.db, options.secrets)
    this.subscriptions = new SubscriptionStore(this.db)
    this.writeGate = guardedWriteGate({
      health: this.health,
      exclusive: (write) => this.events.exclusive(write),
      eventsFailing: () => this.events.failing,
      db: this.db,
    })
    this.heads = new HeadStore(this.db, {
      onCommitted: (batches) => batches.forEach((batch) => options.onHeadsCommitted(batch)),
      // The write gate reports it to `health`; the rows stay queued and are retried.
      onError: (error) => options.onStoreError(error),
      // Called only after the constructor, when `events` exists.
      writeGate: (write) => this.writeGate(write),
      whenWriterIdle: (run) => this.events.whenIdle(run),
    })
    this.events = new EventStore(this.db, {
      onError: (error, retry) => {
        this.health.failed('events', error, retry)
        options.onStoreError(error)
      },
      onBacklog: options.onBacklog,
      ...(options.maxHeldWrites !== undefined ? { maxHeldWrites: options.maxHeldWrites } : {}),
      nativeBinding: options.nativeBinding,
      onCommitted: (batches) => {
        this.health.succeeded('events')
        options.onEventsCommitted(batches)
      },
    })
    this.retention = new RetentionStore(this.db, () => this.settleCaptured())
    this.abis = new AbiStore(this.db)
    this.watchlist = new WatchlistStore(this.db)
    this.settings = new SettingsStore(this.db)
    this.tokens = new TokenMetadataStore(this.db)
  }

  /** A connection's chain data (blocks, logs, cursor) for its tracker; appends go through the write gate. */
  chainStore(connectionId: number): ChainStore {
    return new SqliteChainStore(this.db, connectionId, { writeGate: this.writeGate, settleCaptured: () => this.settleCaptured(), queue: this.events })
  }

  /** One process owns the file: it captures every connection, from the start. */
  captureTurns(connectionId: number, turn: CaptureTurn): () => Promise<void> {
    turn.capture(this.chainStore(connectionId))
    return () => Promise.resolve()
  }

  /** One process owns the file: nothing else runs a step beside this one. */
  async serialized<T>(step: () => T | Promise<T>): Promise<T> {
    return step()
  }

  /** A removed connection's captured events (its heads go with its row). */
  deleteCaptured(connectionId: number): void {
    this.heads.flush()
    this.events.flush()
    this.events.deleteForConnection(connectionId)
  }

  /** Pruning's batches go through the events writer, like every other write. */
  pruneHeads(connectionId: number, days: number, batch: number, now: number): number {
    return this.events.exclusive(() => this.retention.pruneHeads(connectionId, days, batch, now))
  }

  pruneEvents(connectionId: number, days: number, batch: number, now: number): number {
    return this.events.exclusive(() => this.retention.pruneEvents(connectionId, days, batch, now))
  }

  storageUse(connectionIds: readonly number[]): StorageUse[] {
    this.heads.flush()
    this.events.flush()
    return this.retention.storageUse(connectionIds)
  }

  /** Commits queued captured events; true when none is left (the store took them all). */
  private settleCaptured(): boolean {
    this.events.flush()
    return this.events.pendingCount === 0
  }

  /** Everything learned from one connection's chain: heads, the tracker's blocks and cursor, captured events, token metadata, watch positions. */
  forgetChain(connectionId: number): void {
    this.heads.flush()
    this.events.flush()
    this.db.transaction(() => {
      this.heads.deleteForConnection(connectionId)
      this.events.deleteForConnection(connectionId)
      forgetChain(this.db, connectionId)
      this.tokens.deleteForConnection(connectionId)
      this.subscriptions.resetPositions(connectionId)
    })()
  }

  /**
   * Gives the space pruning freed back to the file system (VACUUM). It rewrites the file and
   * holds the store meanwhile; captured rows wait in memory and are written after.
   */
  compact(): { bytesBefore: number; bytesAfter: number } {
    this.heads.flush()
    const size = (): number => fs.statSync(this.file).size
    return this.events.exclusive(() => {
      // In WAL mode recent pages sit in the -wal file: checkpoint first so both sizes are the whole store.
      this.db.pragma('wal_checkpoint(TRUNCATE)')
      const bytesBefore = size()
      this.retention.compact()
      this.db.pragma('wal_checkpoint(TRUNCATE)')
      return { bytesBefore, bytesAfter: size() }
    })
  }

  /** Stored logs of every connection with this topic0 and `topic` as topic1 or topic2, newest first. */
  logsByIndexedTopic(topic0: string, topic: string, limit: number): StoredLog[] {
    return logsByIndexedTopic(this.db, topic0, topic, limit)
  }

  /** Commits what is queued and closes the database. */
  close(): Promise<void> {
    this.closeNow()
    return Promise.resolve()
  }

  private closeNow(): void {
    this.heads.flush()
    this.events.close()
    const unwritten = this.events.pendingCount + this.heads.pendingCount
    // Watches resume from their saved cursors at the next start, so their logs and heads come back then.
    if (unwritten > 0)
      this.options.log(`storage: ${unwritten} captured writes could not be stored before closing (${this.health.current.message ?? 'the store refused them'})`)
    this.db.close()
  }
}
