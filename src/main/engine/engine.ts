/**
 * The Tidewatch engine: saved connections and subscriptions, their live upstream sockets,
 * and the store everything is captured into. Free of Electron, so the desktop app,
 * headless mode and tests run the same code.
 */
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import type { CapturedEvent, ConnectionStatus, ConnectionWithStatus, EventKind, Head, Subscription, WatchOptions } from '../../shared/contract'
import { watchOptionsSchema } from '../../shared/contract'
import { createTrackerWatchProvider } from '../chain/tracker-watch'
import { WatchCapture } from '../subscriptions/watch-capture'
import { parseAbiInput } from '../decode/abi-input'
import { EventDecoder } from '../decode/event-decoder'
import { AbiStore } from '../store/abi-store'
import { WatchlistStore } from '../store/watchlist-store'
import type { EventQuery } from '../store/event-store'
import { Notifier, type Notification } from './notifier'
import { ExportService, type ExportDestination, type ExportFormat } from '../export/export-service'
import type { ExportProgress, StorageStatus } from '../../shared/contract'
import { transfersOf, watchlistFilters } from './watchlist-activity'
import { subscriptionSpecSchema, type SubscriptionSpec } from '../../shared/subscription-params'
import { SubscriptionRunner } from '../subscriptions/subscription-runner'
import { ConnectionStore, type StoredConnection } from '../store/connection-store'
import { forgetChain } from '../store/chain-store'
import { openDatabase, type Db, type WriteGate } from '../store/database'
import { guardedWriteGate, StorageHealth } from '../store/storage-health'
import { EventStore } from '../store/event-store'
import { HeadStore, type HeadsCommitted } from '../store/head-store'
import { redactUrl } from '../redact-url'
import type { SecretBox } from '../store/secret-box'
import { SettingsStore } from '../store/settings-store'
import { SubscriptionStore, type StoredSubscription } from '../store/subscription-store'
import type { BackoffOptions } from '../backoff'
import type { HeartbeatOptions } from '../upstream/upstream-socket'
import { LiveConnection } from './live-connection'
import { describeChain } from '../chain-info/finality'
import { TokenMetadataStore } from '../store/token-metadata-store'
import { DEFAULT_HEADS_RETENTION_DAYS, RetentionStore, type StorageUse } from '../store/retention-store'
import { TokenLookup } from '../tokens/token-lookup'
import type { TokenMetadata } from '../../shared/contract'

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
  log?: (message: string) => void
}

/** Rows deleted per transaction when pruning, so capture never waits long for the disk. */
const RETENTION_BATCH = 500

export interface EngineEvents {
  status: [ConnectionStatus]
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

export class NotFoundError extends Error {}

export const DATABASE_FILE = 'tidewatch.sqlite'

export class Engine extends EventEmitter<EngineEvents> {
  readonly db: Db
  private readonly connections: ConnectionStore
  private readonly subscriptions: SubscriptionStore
  private readonly heads: HeadStore
  private readonly events: EventStore
  private readonly live = new Map<number, LiveConnection>()
  private readonly runners = new Map<number, SubscriptionRunner | WatchCapture>()
  /** Per connection: the captures that feed the watchlist's activity (transactions from or to watched addresses). */
  private readonly watchlistRunners = new Map<number, SubscriptionRunner[]>()
  /** Per connection: the tracker filters that keep watched addresses' Transfer logs. */
  private readonly watchlistFilters = new Map<number, (() => void)[]>()
  private readonly streamCounters: Map<number, { count: number; lastAt: number | null }>
  readonly abis: AbiStore
  readonly watchlist: WatchlistStore
  readonly settings: SettingsStore
  private decoder: EventDecoder
  private readonly notifier: Notifier
  private readonly exports = new ExportService((progress) => this.emit('exportProgress', progress))
  private readonly tokenStore: TokenMetadataStore
  private readonly tokens: TokenLookup
  private closed = false
  /** Storage faults (locked, full, read-only, damaged), said once to the log and the UI. */
  readonly storage: StorageHealth
  /** Main-thread writes: after the events writer thread, and held back while the store refuses writes. */
  private readonly writeGate: WriteGate
  /** Subscriptions stopped because the writes held in memory reached their cap (storage fault). */
  private suspended: number[] | null = null
  private readonly retention: RetentionStore
  private retentionTimer: NodeJS.Timeout | null = null
  private retentionRunning = false

  constructor(private readonly options: EngineOptions) {
    super()
    const file = path.join(options.dataDir, DATABASE_FILE)
    this.storage = new StorageHealth({
      file,
      log: (message) => this.log(message),
      // Asked before the stores exist when a damaged file is moved aside at open.
      pendingWrites: () => (this.events?.pendingCount ?? 0) + (this.heads?.pendingCount ?? 0),
    })
    this.storage.on('status', (status) => this.emit('storageStatus', status))
    this.db = openDatabase(file, {
      ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
      onDamagedMovedAside: (movedTo) =>
        this.storage.noted(`the store ${file} was damaged or not a database; it was moved to ${movedTo} (kept, not changed) and a fresh store was created.`),
    })
    this.connections = new ConnectionStore(this.db, options.secrets)
    this.subscriptions = new SubscriptionStore(this.db)
    this.writeGate = guardedWriteGate({
      health: this.storage,
      exclusive: (write) => this.events.exclusive(write),
      eventsFailing: () => this.events.failing,
      db: this.db,
    })
    this.heads = new HeadStore(this.db, {
      onCommitted: (batches) => batches.forEach((batch) => this.emit('headsAppended', batch)),
      // The write gate reports it to `storage`; the rows stay queued and are retried.
      onError: (error) => this.emit('storeError', error),
      // Called only after the constructor, when `events` exists.
      writeGate: (write) => this.writeGate(write),
    })
    this.events = new EventStore(this.db, {
      onError: (error, retry) => {
        this.storage.failed('events', error, retry)
        this.emit('storeError', error)
      },
      onBacklog: (full, held) => void this.holdCapture(full, held),
      ...(options.maxHeldWrites !== undefined ? { maxHeldWrites: options.maxHeldWrites } : {}),
      nativeBinding: options.nativeBinding,
      onCommitted: (batches) => {
        this.storage.succeeded('events')
        for (const batch of batches) {
          for (const [streamId, count] of batch.perStream) {
            const counter = this.streamCounters.get(streamId) ?? { count: 0, lastAt: null }
            counter.count += count
            counter.lastAt = Date.now()
            this.streamCounters.set(streamId, counter)
          }
          this.emit('eventsAppended', { connectionId: batch.connectionId, lastId: batch.lastId, count: batch.count })
          this.noteForNotifications(batch)
        }
      },
    })
    this.streamCounters = this.events.countByStream()
    this.retention = new RetentionStore(this.db)
    const every = options.retentionIntervalMs ?? 60_000
    if (every > 0) this.retentionTimer = setInterval(() => void this.applyRetention(), every).unref()
    this.abis = new AbiStore(this.db)
    this.watchlist = new WatchlistStore(this.db)
    this.settings = new SettingsStore(this.db)
    this.decoder = new EventDecoder(this.abis.all())
    this.notifier = new Notifier((notification) => this.emit('notification', notification))
    this.tokenStore = new TokenMetadataStore(this.db)
    this.tokens = new TokenLookup({
      store: {
        get: (connectionId, address) => this.tokenStore.get(connectionId, address),
        put: (token) => this.writeGate(() => this.tokenStore.put(token)),
      },
      requester: (connectionId) => {
        const live = this.live.get(connectionId)
        return live ? (method, params) => live.pool.request(method, params, 15_000) : null
      },
      onResolved: (tokens) => this.emit('tokensResolved', tokens),
      log: (message) => this.log(message),
    })
  }

  /** Connects every saved endpoint not connected yet, with its active subscriptions. */
  start(): void {
    for (const connection of this.connections.list()) if (!this.live.has(connection.id)) this.connect(connection)
  }

  listConnections(): ConnectionWithStatus[] {
    return this.connections.list().map((connection) => this.withStatus(connection))
  }

  addConnection(input: {
    name?: string | undefined
    url: string
    httpUrl?: string | undefined
    kind?: 'user' | 'demo'
    confirmations?: number | undefined
  }): ConnectionWithStatus {
    const name = input.name?.trim() || new URL(input.url).host
    const connection = this.connections.add({
      name,
      url: input.url,
      httpUrl: input.httpUrl ?? null,
      kind: input.kind ?? 'user',
      confirmations: input.confirmations ?? null,
    })
    this.log(`added connection ${connection.id} ${redactUrl(input.url)}`)
    this.connect(connection)
    return this.withStatus(connection)
  }

  /** Sets the connection's own confirmation count (null: the chain's default); a live connection uses it from its next finality update. */
  updateConnection(id: number, patch: { confirmations: number | null }): ConnectionWithStatus {
    if (!this.connections.get(id)) throw new NotFoundError(`There is no connection ${id}`)
    this.connections.setConfirmations(id, patch.confirmations)
    this.live.get(id)?.setConnectionConfirmations(patch.confirmations)
    return this.withStatus(this.connections.get(id)!)
  }

  /** How long this connection keeps heads (null: 30 days) and captured events (null: forever); applied by the next pruning pass. */
  setRetention(id: number, retention: { headsRetentionDays: number | null; eventsRetentionDays: number | null }): void {
    if (!this.connections.get(id)) throw new NotFoundError(`There is no connection ${id}`)
    this.connections.setRetention(id, retention)
  }

  /** Disk use per saved connection, with its retention settings. */
  storageUse(): (StorageUse & { headsRetentionDays: number; eventsRetentionDays: number | null })[] {
    this.heads.flush()
    this.events.flush()
    const connections = this.connections.list()
    return this.retention.storageUse(connections.map((c) => c.id)).map((use, i) => ({
      ...use,
      headsRetentionDays: connections[i]!.headsRetentionDays ?? DEFAULT_HEADS_RETENTION_DAYS,
      eventsRetentionDays: connections[i]!.eventsRetentionDays,
    }))
  }

  /**
   * Gives the space pruning freed back to the file system (VACUUM). It rewrites the file and
   * holds the store meanwhile; captured rows wait in memory and are written after.
   */
  compactStore(): { bytesBefore: number; bytesAfter: number } {
    this.heads.flush()
    const file = path.join(this.options.dataDir, DATABASE_FILE)
    const size = (): number => fs.statSync(file).size
    return this.events.exclusive(() => {
      // In WAL mode recent pages sit in the -wal file: checkpoint first so both sizes are the whole store.
      this.db.pragma('wal_checkpoint(TRUNCATE)')
      const bytesBefore = size()
      this.retention.compact()
      this.db.pragma('wal_checkpoint(TRUNCATE)')
      return { bytesBefore, bytesAfter: size() }
    })
  }

  /**
   * One pruning pass over every connection: heads past their retention, events past theirs,
   * a batch per transaction through the same gate as every other write, with the event loop
   * free between batches.
   */
  async applyRetention(now = Date.now()): Promise<number> {
    if (this.retentionRunning || this.closed) return 0
    this.retentionRunning = true
    let total = 0
    try {
      for (const connection of this.connections.list()) {
        const headsDays = connection.headsRetentionDays ?? DEFAULT_HEADS_RETENTION_DAYS
        const prunes: (() => number)[] = [() => this.retention.pruneHeads(connection.id, headsDays, RETENTION_BATCH, now)]
        const eventsDays = connection.eventsRetentionDays
        if (eventsDays !== null) prunes.push(() => this.retention.pruneEvents(connection.id, eventsDays, RETENTION_BATCH, now))
        for (const prune of prunes) {
          for (;;) {
            if (this.closed) return total
            const deleted = this.events.exclusive(prune)
            total += deleted
            if (deleted < RETENTION_BATCH) break
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
      }
    } catch (error) {
      this.log(`retention pruning failed, will retry: ${error instanceof Error ? error.message : String(error)}`)
    } finally {
      this.retentionRunning = false
    }
    return total
  }

  /** Symbols and decimals of the tokens already known; the rest are read in the background and announced with `tokensResolved`. */
  lookupTokens(connectionId: number, addresses: readonly string[]): TokenMetadata[] {
    if (!this.connections.get(connectionId)) throw new NotFoundError(`There is no connection ${connectionId}`)
    return this.tokens.lookup(connectionId, addresses)
  }

  /**
   * Points a saved connection at a new URL. With `freshChain` (the demo chain: a new chain
   * each run) everything learned from the old chain goes: heads, the tracker's blocks and
   * cursor, captured events, and the watches' cursors, so nothing is compared with a chain
   * that no longer exists.
   */
  async retargetConnection(id: number, url: string, options: { freshChain?: boolean } = {}): Promise<void> {
    await this.disconnect(id)
    this.connections.updateUrl(id, url)
    if (options.freshChain) {
      this.heads.flush()
      this.events.flush()
      this.db.transaction(() => {
        this.heads.deleteForConnection(id)
        this.events.deleteForConnection(id)
        forgetChain(this.db, id)
        this.tokenStore.deleteForConnection(id)
        this.subscriptions.resetPositions(id)
      })()
      this.streamCounters.clear()
      for (const [streamId, counter] of this.events.countByStream()) this.streamCounters.set(streamId, counter)
      this.tokens.forget(id)
    }
    const connection = this.connections.get(id)
    if (connection) this.connect(connection)
  }

  findConnection(predicate: (connection: StoredConnection) => boolean): StoredConnection | undefined {
    return this.connections.list().find(predicate)
  }

  async removeConnection(id: number): Promise<boolean> {
    await this.disconnect(id)
    this.heads.flush()
    this.events.flush()
    const removed = this.connections.remove(id)
    if (removed) this.events.deleteForConnection(id)
    return removed
  }

  listHeads(query: { connectionId?: number | undefined; limit: number; beforeId?: number | undefined }): Head[] {
    this.heads.flush()
    return this.heads.list(query)
  }

  /** The chain tracker and pool of a live connection (for /v1/stream watches). */
  liveConnection(connectionId: number): LiveConnection | undefined {
    return this.live.get(connectionId)
  }

  listSubscriptions(connectionId?: number): Subscription[] {
    return this.subscriptions.list(connectionId).map((s) => this.subscriptionView(s))
  }

  /** logs and newHeads subscriptions are always watches (default: from the next block, listening). */
  createSubscription(input: { connectionId: number; spec: SubscriptionSpec; label?: string | undefined; watch?: WatchOptions | undefined }): Subscription {
    if (!this.connections.get(input.connectionId)) throw new NotFoundError(`There is no connection ${input.connectionId}`)
    const isWatch = input.spec.type === 'logs' || input.spec.type === 'newHeads'
    const stored = this.subscriptions.add({ ...input, watch: isWatch ? (input.watch ?? watchOptionsSchema.parse({})) : undefined })
    this.startRunner(stored)
    return this.subscriptionView(stored)
  }

  async setSubscriptionPaused(id: number, paused: boolean): Promise<Subscription> {
    const stored = this.subscriptions.get(id)
    if (!stored) throw new NotFoundError(`There is no subscription ${id}`)
    this.subscriptions.setPaused(id, paused)
    if (paused) {
      const runner = this.runners.get(id)
      this.runners.delete(id)
      await runner?.stop()
    } else this.startRunner({ ...stored, paused: false })
    const view = this.subscriptionView({ ...stored, paused })
    this.emit('subscriptionChanged', view, null)
    return view
  }

  /** Ends the subscription (eth_unsubscribe when it was the last user); its captured events stay. */
  async removeSubscription(id: number): Promise<boolean> {
    const runner = this.runners.get(id)
    this.runners.delete(id)
    await runner?.stop()
    const removed = this.subscriptions.remove(id)
    if (removed) this.emit('subscriptionChanged', null, id)
    return removed
  }

  listEvents(query: {
    connectionId?: number | undefined
    subscriptionId?: number | undefined
    kind?: EventKind | undefined
    address?: string | undefined
    eventName?: string | undefined
    fromBlock?: number | undefined
    toBlock?: number | undefined
    text?: string | undefined
    limit: number
    beforeId?: number | undefined
    afterId?: number | undefined
  }): CapturedEvent[] {
    this.events.flush()
    const subscriptions = this.subscriptions.list(query.connectionId)
    let streamIds: number[] | undefined
    if (query.subscriptionId !== undefined) {
      const subscription = subscriptions.find((s) => s.id === query.subscriptionId) ?? this.subscriptions.get(query.subscriptionId)
      if (!subscription) throw new NotFoundError(`There is no subscription ${query.subscriptionId}`)
      streamIds = [subscription.streamId]
    }
    const { subscriptionId: _s, eventName, ...rest } = query
    const filter: EventQuery = { ...rest, streamIds, ...(eventName ? { selectors: this.decoder.selectorsNamed(eventName) } : {}) }
    return this.decorate(this.events.list(filter), subscriptions)
  }

  /** A log's event name and arguments, from the built-in events and the person's ABIs; null when unknown. */
  decodeLog(topics: string[], data: string | null): { event: string; args: Record<string, unknown> } | null {
    const decoded = this.decoder.decode(topics, data)
    return decoded ? { event: decoded.event, args: decoded.args } : null
  }

  /** Adds what the store does not hold: subscription ids, finality, decoded arguments. */
  private decorate(rows: ReturnType<EventStore['list']>, subscriptions: StoredSubscription[] = this.subscriptions.list()): CapturedEvent[] {
    const byStream = new Map<number, number[]>()
    for (const s of subscriptions) byStream.set(s.streamId, [...(byStream.get(s.streamId) ?? []), s.id])
    const finalized = new Map<number, number>()
    const finalityOf = (connectionId: number): number => {
      if (!finalized.has(connectionId)) finalized.set(connectionId, this.live.get(connectionId)?.tracker.cursor?.finalized ?? -1)
      return finalized.get(connectionId)!
    }
    return rows.map(({ streamId, ...event }) => ({
      ...event,
      subscriptionIds: byStream.get(streamId) ?? [],
      irreversible: !event.removed && event.blockNumber !== null && event.blockNumber <= finalityOf(event.connectionId),
      decoded: event.kind === 'log' ? this.decoder.decode(event.topics, event.data) : null,
    }))
  }

  /** Export: rows oldest first as a lazy sequence, decorated like listEvents. */
  exportRows(query: {
    subscriptionIds?: number[] | undefined
    connectionId?: number | undefined
    kind?: EventKind | undefined
    fromBlock?: number | undefined
    toBlock?: number | undefined
    fromTime?: number | undefined
    toTime?: number | undefined
  }): { total: number; rows: Iterable<CapturedEvent> } {
    this.events.flush()
    const subscriptions = this.subscriptions.list()
    const streamIds = query.subscriptionIds?.map((id) => {
      const subscription = subscriptions.find((s) => s.id === id)
      if (!subscription) throw new NotFoundError(`There is no subscription ${id}`)
      return subscription.streamId
    })
    const { subscriptionIds: _ids, ...rest } = query
    const { total, rows } = this.events.iterate({ ...rest, streamIds })
    const decorate = (row: ReturnType<EventStore['list']>[number]) => this.decorate([row], subscriptions)[0]!
    return {
      total,
      rows: {
        *[Symbol.iterator]() {
          for (const row of rows) yield decorate(row)
        },
      },
    }
  }

  startExport(query: Parameters<Engine['exportRows']>[0], format: ExportFormat, destination: ExportDestination): string {
    return this.exports.start(this.exportRows(query), format, destination)
  }

  cancelExport(exportId: string): boolean {
    return this.exports.cancel(exportId)
  }

  updateSubscription(id: number, patch: { label?: string | null | undefined; notify?: boolean | undefined }): Subscription {
    const stored = this.subscriptions.get(id)
    if (!stored) throw new NotFoundError(`There is no subscription ${id}`)
    this.subscriptions.update(id, patch)
    const view = this.subscriptionView(this.subscriptions.get(id)!)
    this.emit('subscriptionChanged', view, null)
    return view
  }

  addAbi(name: string, abiText: string) {
    const entry = this.abis.add(name, parseAbiInput(abiText))
    this.decoder = new EventDecoder(this.abis.all())
    return entry
  }

  removeAbi(id: number): boolean {
    const removed = this.abis.remove(id)
    this.decoder = new EventDecoder(this.abis.all())
    return removed
  }

  upsertWatchlist(entry: { address: string; label: string; color: string; notify: boolean }) {
    const saved = this.watchlist.upsert(entry)
    this.emit('watchlistChanged')
    for (const connectionId of this.live.keys()) void this.restartWatchlistCapture(connectionId)
    return saved
  }

  removeWatchlist(address: string): boolean {
    const removed = this.watchlist.remove(address)
    if (removed) {
      this.emit('watchlistChanged')
      for (const connectionId of this.live.keys()) void this.restartWatchlistCapture(connectionId)
    }
    return removed
  }

  /**
   * Transactions from or to watched addresses, pending and mined, captured like any
   * subscription (natively where the upstream offers the alchemy_* types, else built by
   * Tidewatch) into streams of their own, so the watchlist shows them without the person
   * creating subscriptions.
   */
  private async restartWatchlistCapture(connectionId: number): Promise<void> {
    const previous = this.watchlistRunners.get(connectionId) ?? []
    this.watchlistRunners.delete(connectionId)
    this.releaseWatchlistFilters(connectionId)
    await Promise.all(previous.map((runner) => runner.stop()))
    const live = this.live.get(connectionId)
    const addresses = this.watchlist.list().map((w) => w.address)
    if (!live || addresses.length === 0 || this.closed) return
    this.releaseWatchlistFilters(connectionId)
    this.watchlistFilters.set(
      connectionId,
      watchlistFilters(addresses).map((filter) => {
        const registration = live.tracker.registerFilter(filter, { keep: true })
        return () => registration.release()
      }),
    )
    const specs = [
      subscriptionSpecSchema.parse({ type: 'alchemy_pendingTransactions', params: { fromAddress: addresses, toAddress: addresses } }),
      subscriptionSpecSchema.parse({ type: 'alchemy_minedTransactions', params: { addresses: addresses.flatMap((a) => [{ from: a }, { to: a }]) } }),
    ]
    const runners = specs.map((spec) => {
      const streamId = this.subscriptions.internalStream(connectionId, `watchlist:${spec.type}`)
      const runner = new SubscriptionRunner({
        pool: live.pool,
        spec,
        sink: (event) => this.events.enqueue(connectionId, streamId, event),
        log: (message) => this.log(`[watchlist ${spec.type}] ${message}`),
      })
      runner.start()
      return runner
    })
    this.watchlistRunners.set(connectionId, runners)
  }

  private releaseWatchlistFilters(connectionId: number): void {
    for (const release of this.watchlistFilters.get(connectionId) ?? []) release()
    this.watchlistFilters.delete(connectionId)
  }

  watchlistActivity(address: string, limit: number) {
    this.events.flush()
    const transactions = this.decorate(this.events.list({ address, limit: limit * 4 })).filter(
      (e) => e.kind === 'pending_transaction' || e.kind === 'mined_transaction',
    )
    return { transfers: transfersOf(this.db, address, limit), transactions: transactions.slice(0, limit) }
  }

  private noteForNotifications(batch: { connectionId: number; lastId: number; count: number; perStream: Map<number, number> }): void {
    const watched = this.watchlist.list().filter((w) => w.notify)
    const subscriptions = this.subscriptions.list(batch.connectionId).filter((s) => s.notify && batch.perStream.has(s.streamId))
    if (watched.length === 0 && subscriptions.length === 0) return
    const recent = this.decorate(
      this.events.list({ connectionId: batch.connectionId, afterId: batch.lastId - batch.count, limit: Math.min(batch.count, 1000) }),
    )
    const describe = (e: CapturedEvent): string =>
      `${e.decoded?.event ?? e.kind.replace('_', ' ')}${e.blockNumber !== null ? ` in block ${e.blockNumber}` : ''}${e.transactionHash ? ` (tx ${e.transactionHash.slice(0, 10)}…)` : ''}`
    for (const subscription of subscriptions) {
      const mine = recent.filter((e) => e.subscriptionIds.includes(subscription.id) && !e.removed)
      if (mine.length > 0)
        this.notifier.note(
          `subscription:${subscription.id}`,
          subscription.label ?? `${subscription.spec.type} subscription`,
          describe(mine[0]!),
          mine.length,
          subscription.id,
        )
    }
    for (const entry of watched) {
      const touching = recent.filter(
        (e) =>
          !e.removed &&
          JSON.stringify(e.decoded?.args ?? e.payload ?? '')
            .toLowerCase()
            .includes(entry.address),
      )
      if (touching.length > 0) this.notifier.note(`address:${entry.address}`, `${entry.label}`, describe(touching[0]!), touching.length, null)
    }
  }

  /** Stops every socket, commits what is queued, closes the database. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.retentionTimer) clearInterval(this.retentionTimer)
    this.notifier.stop()
    this.tokens.stop()
    await Promise.all([...this.runners.values(), ...[...this.watchlistRunners.values()].flat()].map((runner) => runner.stop()))
    this.runners.clear()
    this.watchlistRunners.clear()
    await Promise.all([...this.live.values()].map((connection) => connection.stop()))
    this.live.clear()
    this.heads.flush()
    this.events.close()
    const unwritten = this.events.pendingCount + this.heads.pendingCount
    // Watches resume from their saved cursors at the next start, so their logs and heads come back then.
    if (unwritten > 0)
      this.log(`storage: ${unwritten} captured writes could not be stored before closing (${this.storage.current.message ?? 'the store refused them'})`)
    this.db.close()
  }

  /**
   * The store has refused writes long enough that the writes held in memory reached their
   * cap: every capture stops (nothing is dropped from the queue) and starts again once the
   * queue is stored. Watches then resume from their cursors, committed with their rows, so
   * no log or head is missed; pending transactions seen in between are not captured.
   */
  private async holdCapture(full: boolean, held: number): Promise<void> {
    if (full === (this.suspended !== null) || this.closed) return
    this.storage.capturePaused(full, held)
    if (full) {
      this.suspended = [...this.runners.keys()]
      const stopping = [...this.runners.values(), ...[...this.watchlistRunners.values()].flat()]
      this.runners.clear()
      this.watchlistRunners.clear()
      await Promise.all(stopping.map((runner) => runner.stop()))
      return
    }
    const resume = this.suspended ?? []
    this.suspended = null
    // Cursors still queued commit first, so each watch resumes from its last delivered block.
    this.events.flush()
    for (const id of resume) {
      const subscription = this.subscriptions.get(id)
      if (subscription && !subscription.paused) this.startRunner(subscription)
    }
    for (const connectionId of this.live.keys()) void this.restartWatchlistCapture(connectionId)
  }

  private connect(connection: StoredConnection): void {
    const live = new LiveConnection({
      id: connection.id,
      url: connection.url,
      httpUrl: connection.httpUrl,
      maxSubscriptionsPerSocket: this.options.maxSubscriptionsPerSocket,
      backoff: this.options.backoff,
      heartbeat: this.options.heartbeat,
      db: this.db,
      writeGate: this.writeGate,
      commandLineConfirmations: this.options.confirmations,
      connectionConfirmations: connection.confirmations,
      chainId: connection.chainId,
      maxReorgDepth: this.options.maxReorgDepth,
      // The tracker retries failed block writes and logs each; the fault itself is said once by `storage`.
      log: (message) => {
        if (!this.storage.isKnownFault(message)) this.log(message)
      },
    })
    live.on('status', (status) => {
      if (this.live.get(connection.id) === live) this.emit('status', status)
    })
    live.on('head', (head) => {
      this.heads.enqueue({ connectionId: connection.id, ...head, txCount: null, receivedAt: Date.now() })
    })
    live.on('txCount', (hash, txCount) => this.heads.enqueueTxCount(connection.id, hash, txCount))
    live.pool.on('ready', () => this.tokens.resume(connection.id))
    live.on('chainId', (chainId) => this.writeGate(() => this.connections.setChainId(connection.id, chainId)))
    // Whatever was captured from blocks that left the chain is marked removed, for every watch at once.
    live.tracker.on('reorg', (orphaned) => {
      const blockHashes = orphaned.map((o) => o.block.hash)
      this.events.enqueueOrphaned(connection.id, blockHashes)
      this.emit('eventsRetracted', { connectionId: connection.id, blockHashes })
    })
    this.live.set(connection.id, live)
    live.start()
    void this.restartWatchlistCapture(connection.id)
    for (const subscription of this.subscriptions.list(connection.id)) if (!subscription.paused) this.startRunner(subscription)
  }

  private async disconnect(connectionId: number): Promise<void> {
    await Promise.all((this.watchlistRunners.get(connectionId) ?? []).map((runner) => runner.stop()))
    this.watchlistRunners.delete(connectionId)
    this.releaseWatchlistFilters(connectionId)
    for (const subscription of this.subscriptions.list(connectionId)) {
      const runner = this.runners.get(subscription.id)
      this.runners.delete(subscription.id)
      await runner?.stop()
    }
    const live = this.live.get(connectionId)
    this.live.delete(connectionId)
    await live?.stop()
  }

  private startRunner(subscription: StoredSubscription): void {
    const live = this.live.get(subscription.connectionId)
    if (!live || this.runners.has(subscription.id) || subscription.paused) return
    const log = (message: string): void => this.log(`[subscription ${subscription.id}] ${message}`)
    const { spec } = subscription
    let runner: SubscriptionRunner | WatchCapture
    if ((spec.type === 'logs' || spec.type === 'newHeads') && subscription.watch) {
      if (subscription.complete) return
      const { connectionId, streamId, id } = subscription
      runner = new WatchCapture({
        spec,
        watch: subscription.watch,
        provider: createTrackerWatchProvider(live.tracker, live.pool),
        resume: { startBlock: subscription.startBlock, cursor: subscription.cursor, complete: subscription.complete },
        store: {
          insert: (event) => this.events.enqueue(connectionId, streamId, event),
          remove: (blockHash, logIndex) => this.events.enqueueRemoved(streamId, blockHash, logIndex),
          cursor: (number, hash) => this.events.enqueueCursor(id, number, hash),
          resolvedStart: (startBlock, head) => this.subscriptions.setStart(id, startBlock, head),
          complete: () => {
            this.events.flush()
            this.subscriptions.setComplete(id)
          },
        },
        log,
      })
    } else {
      runner = new SubscriptionRunner({
        pool: live.pool,
        spec,
        sink: (event) => this.events.enqueue(subscription.connectionId, subscription.streamId, event),
        log,
        ...(this.options.syncingPollMs ? { syncingPollMs: this.options.syncingPollMs } : {}),
      })
    }
    runner.on('status', () => {
      if (this.runners.get(subscription.id) === runner) this.emit('subscriptionChanged', this.subscriptionView(subscription), null)
    })
    this.runners.set(subscription.id, runner)
    runner.start()
  }

  private subscriptionView(given: StoredSubscription): Subscription {
    // Cursor, start and completion change as the watch runs: read them fresh.
    const subscription = { ...given, ...(this.subscriptions.get(given.id) ?? {}), paused: given.paused }
    const runner = this.runners.get(subscription.id)
    const status = runner?.getStatus()
    const counter = this.streamCounters.get(subscription.streamId)
    const paused = subscription.paused || !runner
    return {
      id: subscription.id,
      connectionId: subscription.connectionId,
      type: subscription.spec.type,
      params: subscription.spec.params,
      label: subscription.label,
      state: paused ? 'paused' : status!.state === 'paused' ? 'pending' : status!.state,
      emulated: status?.emulated ?? false,
      emulation: status?.emulation ?? null,
      lastError: status?.lastError ?? null,
      eventCount: counter?.count ?? 0,
      lastEventAt: counter?.lastAt ?? null,
      createdAt: subscription.createdAt,
      watch: subscription.watch,
      cursor: subscription.cursor,
      history: runner instanceof WatchCapture ? runner.getStatus().history : null,
      complete: subscription.complete,
      notify: subscription.notify,
    }
  }

  private withStatus(connection: StoredConnection): ConnectionWithStatus {
    const status = this.live.get(connection.id)?.getStatus() ?? {
      connectionId: connection.id,
      state: 'stopped' as const,
      lastMessageAt: null,
      reconnectCount: 0,
      lastError: null,
      headNumber: null,
      headTimestamp: null,
      chain:
        connection.chainId === null
          ? null
          : describeChain(connection.chainId, { commandLine: this.options.confirmations, connection: connection.confirmations }),
      syncing: null,
      sockets: 0,
      upstreamSubscriptions: 0,
    }
    if (status.headNumber === null) status.headNumber = this.heads.latest(connection.id)?.number ?? null
    const { url: _url, httpUrl: _httpUrl, chainId: _chainId, ...visible } = connection
    return { ...visible, status }
  }

  private log(message: string): void {
    this.options.log?.(message)
  }
}
