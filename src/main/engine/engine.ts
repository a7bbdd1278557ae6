/**
 * The Tidewatch engine: the services, each with one job, over one store, and the wiring of
 * who listens to whom. The API calls the services; their events reach it from here. Free
 * of Electron, so the desktop app, headless mode and tests run the same code.
 */
import { EventEmitter } from 'node:events'
import type { ConnectionStatus, ExportProgress, StorageStatus, Subscription, TokenMetadata } from '../../shared/contract'
import type { BackoffOptions } from '../backoff'
import { EventExports } from '../export/event-exports'
import type { HeadsCommitted } from '../store/head-store'
import type { SecretBox } from '../store/secret-box'
import type { StorageHealth } from '../store/storage-health'
import type { ConfigTable, EngineStore, EngineStoreFactory, SettingsStoreApi } from '../store/engine-store'
import { TidewatchStore } from '../store/tidewatch-store'
import type { HeartbeatOptions } from '../upstream/upstream-socket'
import { AbiService } from './abi-service'
import { ConnectionsService } from './connections-service'
import { EventsService, type EventExportQuery } from './events-service'
import { NotificationsService } from './notifications-service'
import type { Notification } from './notifier'
import { RetentionService } from './retention-service'
import { SubscriptionsService } from './subscriptions-service'
import { TokensService } from './tokens-service'
import { WatchlistService } from './watchlist-service'

export { NotFoundError } from './not-found-error'
export { DATABASE_FILE } from '../store/tidewatch-store'

export interface EngineOptions {
  dataDir: string
  secrets: SecretBox
  nativeBinding?: string
  backoff?: BackoffOptions
  heartbeat?: Partial<HeartbeatOptions>
  /** Alchemy allows 1,000 subscriptions per WebSocket; other providers differ. */
  maxSubscriptionsPerSocket?: number
  syncingPollMs?: number
  /** Finality depth where the upstream has no 'finalized' tag, for every chain (`serve --confirmations`); else per chain and connection. */
  confirmations?: number
  maxReorgDepth?: number
  /** Writes held in memory while the store refuses them, before capture pauses (EventStore's MAX_HELD_WRITES). */
  maxHeldWrites?: number
  /** Retention pruning (heads, events) runs this often; 0 turns it off. */
  retentionIntervalMs?: number
  /** Another store than the data directory's SQLite file (a shared PostgreSQL: postgres/engine-store.ts). */
  store?: EngineStoreFactory
  log?: (message: string) => void
}

export interface EngineEvents {
  status: [ConnectionStatus]
  /** Another instance sharing the store changed the saved connections (this one runs what they now say). */
  connectionsChanged: []
  headsAppended: [HeadsCommitted]
  eventsAppended: [{ connectionId: number; lastId: number; count: number }]
  eventsRetracted: [{ connectionId: number; blockHashes: string[] }]
  subscriptionChanged: [subscription: Subscription | null, removedId: number | null]
  notification: [Notification]
  watchlistChanged: []
  tokensResolved: [TokenMetadata[]]
  exportProgress: [ExportProgress]
  storeError: [Error]
  storageStatus: [StorageStatus]
}

export class Engine extends EventEmitter<EngineEvents> {
  /** Saved connections, their live upstreams and the heads they bring. */
  readonly connections: ConnectionsService
  /** The person's subscriptions and their captures. */
  readonly subscriptions: SubscriptionsService
  /** Captured events, listed and decorated. */
  readonly events: EventsService
  readonly abis: AbiService
  /** Watched addresses, their capture and activity. */
  readonly watchlist: WatchlistService
  readonly exports: EventExports<EventExportQuery>
  readonly tokens: TokensService
  readonly retention: RetentionService
  /** The app's own settings (preferences, window bounds, the local API). */
  readonly settings: SettingsStoreApi
  /** Storage faults (locked, full, read-only, damaged), said once to the log and the UI. */
  readonly storage: StorageHealth
  private readonly notifications: NotificationsService
  private readonly store: EngineStore
  private closed = false
  /** Capture is stopped because the writes held in memory reached their cap (storage fault). */
  private captureHeld = false

  constructor(options: EngineOptions) {
    super()
    const log = (message: string): void => options.log?.(message)
    // The store's callbacks run only once the services below exist (after the first write).
    const openStore: EngineStoreFactory =
      options.store ??
      ((listeners) =>
        new TidewatchStore({
          ...listeners,
          dataDir: options.dataDir,
          secrets: options.secrets,
          nativeBinding: options.nativeBinding,
          maxHeldWrites: options.maxHeldWrites,
        }))
    this.store = openStore({
      onHeadsCommitted: (batch) => this.emit('headsAppended', batch),
      onEventsCommitted: (batches) => {
        for (const batch of batches) {
          this.subscriptions.countCommitted(batch.perStream)
          this.emit('eventsAppended', { connectionId: batch.connectionId, lastId: batch.lastId, count: batch.count })
          void this.notifications.noteCommitted(batch)
        }
      },
      onStoreError: (error) => this.emit('storeError', error),
      onBacklog: (full, held) => void this.holdCapture(full, held),
      onConfigChanged: (table) => this.configChanged(table),
      log,
    })
    const store = this.store
    this.storage = store.health
    this.storage.on('status', (status) => this.emit('storageStatus', status))
    this.settings = store.settings
    this.connections = new ConnectionsService(
      store,
      {
        backoff: options.backoff,
        heartbeat: options.heartbeat,
        maxSubscriptionsPerSocket: options.maxSubscriptionsPerSocket,
        confirmations: options.confirmations,
        maxReorgDepth: options.maxReorgDepth,
      },
      {
        status: (status) => this.emit('status', status),
        connected: (connectionId) => {
          void this.watchlist.restartCapture(connectionId)
          this.subscriptions.startFor(connectionId)
        },
        disconnecting: async (connectionId) => {
          await this.watchlist.stopCapture(connectionId)
          await this.subscriptions.stopFor(connectionId)
        },
        ready: (connectionId) => this.tokens.resume(connectionId),
        // Whatever was captured from blocks that left the chain is marked removed, for every watch at once.
        reorg: (connectionId, blockHashes) => {
          store.events.enqueueOrphaned(connectionId, blockHashes)
          this.emit('eventsRetracted', { connectionId, blockHashes })
        },
        chainForgotten: (connectionId) => {
          void this.subscriptions.recount()
          this.tokens.forget(connectionId)
        },
      },
      log,
    )
    this.subscriptions = new SubscriptionsService(
      store,
      this.connections,
      { syncingPollMs: options.syncingPollMs },
      (subscription, removedId) => this.emit('subscriptionChanged', subscription, removedId),
      log,
    )
    this.abis = new AbiService(store.abis)
    this.events = new EventsService(store.events, this.subscriptions, this.connections, this.abis)
    this.watchlist = new WatchlistService(store, this.connections, this.events, () => this.emit('watchlistChanged'), log)
    this.notifications = new NotificationsService(store.watchlist, this.subscriptions, this.events, (notification) => this.emit('notification', notification))
    this.exports = new EventExports(
      (query: EventExportQuery) => this.events.exportRows(query),
      (progress) => this.emit('exportProgress', progress),
    )
    this.tokens = new TokensService(store, this.connections, (tokens) => this.emit('tokensResolved', tokens), log)
    this.retention = new RetentionService(store, this.connections, options.retentionIntervalMs ?? 60_000, log)
  }

  /** Where the store is: the SQLite file, or the PostgreSQL database without its password. */
  get storeLocation(): string {
    return this.store.location
  }

  /**
   * Another instance sharing the store changed a configuration table (the store has read it
   * again): run what it now says and tell the UI.
   */
  private configChanged(table: ConfigTable): void {
    if (this.closed) return
    if (table === 'connections') void this.connections.sync().then(() => this.emit('connectionsChanged'))
    else if (table === 'subscriptions') void this.subscriptions.sync()
    else if (table === 'watchlist') {
      this.emit('watchlistChanged')
      this.watchlist.restartAll()
    } else if (table === 'abis') this.abis.reload()
  }

  /** Connects every saved endpoint not connected yet, with its active subscriptions. */
  start(): void {
    this.connections.start()
  }

  /** Stops every socket, commits what is queued, closes the database. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.retention.close()
    this.notifications.stop()
    this.tokens.stop()
    await Promise.all([this.subscriptions.stopAll(), this.watchlist.close()])
    await this.connections.close()
    await this.store.close()
  }

  /**
   * The store has refused writes long enough that the writes held in memory reached their
   * cap: every capture stops (nothing is dropped from the queue) and starts again once the
   * queue is stored. Watches then resume from their cursors, committed with their rows, so
   * no log or head is missed; pending transactions seen in between are not captured.
   */
  private async holdCapture(full: boolean, held: number): Promise<void> {
    if (full === this.captureHeld || this.closed) return
    this.captureHeld = full
    this.storage.capturePaused(full, held)
    if (full) {
      await Promise.all([this.subscriptions.suspend(), this.watchlist.stopAllCapture()])
      return
    }
    // Cursors still queued commit first, so each watch resumes from its last delivered block.
    await this.store.events.settle()
    if (this.closed) return
    this.subscriptions.resumeSuspended()
    this.watchlist.restartAll()
  }
}
