/**
 * The engine's store on a shared PostgreSQL (issue 13): the same EngineStore as SQLite's
 * TidewatchStore, built from the PostgreSQL pieces, for `tidewatch serve --store postgres://…`.
 *
 * - Configuration tables: held in memory and written through (PostgresConfigStores); another
 *   instance's change arrives on the change feed, the table is read again and the engine told.
 * - Capture: PostgresCaptureWriter; a subscription's cursor is noted in memory once committed.
 * - Heads: PostgresHeadStore; pages of events, counts: PostgresEventPages; retention:
 *   PostgresRetentionStore.
 * - Turns: one capturer per connection (ConnectionLeadership). Until its turn an instance
 *   follows the connection over an in-memory copy of the stored chain; when elected it reads
 *   the subscriptions again (the last leader's cursors) and the chain, and captures.
 * - What the engine hears of commits (events, heads) comes from the change feed, its own
 *   commits and everyone else's alike, so every instance, capturing or not, counts and shows
 *   the same rows.
 */
import crypto from 'node:crypto'
import { storedLogFromRow, type StoredLog, type StoredLogRow } from '../chain-store'
import type { CaptureTurn, EngineStore, EngineStoreFactory, EngineStoreListeners, EventsApi, HeadsApi } from '../engine-store'
import { CAPTURE_WRITE } from '../capture-writer'
import { redactUrl } from '../../redact-url'
import type { SecretBox } from '../secret-box'
import { FileSettingsStore } from '../file-settings-store'
import { retryDelay, StorageHealth } from '../storage-health'
import { CONFIG_TABLES, ChangeFeed } from './change-feed'
import { PostgresChainStore, PostgresFollowedChain } from './chain-store'
import { PostgresCaptureWriter } from './capture-writer'
import { PostgresConfigStores } from './config-stores'
import { openPostgres, type PostgresPool } from './database'
import { PostgresEventPages } from './event-pages'
import { PostgresHeadStore } from './head-store'
import { ConnectionLeadership, type ConnectionLeadershipOptions } from './leadership'
import { PostgresRetentionStore } from './retention-store'
import { describeError, sessionApplicationName } from './session'

/** pg_advisory_lock(int, int) keys of serialized configuration steps: "tidc" in ASCII (leadership and migrations use "tide"), then 0. */
const CONFIGURATION_STEP_LOCK = [0x74696463, 0] as const

export interface PostgresEngineStoreOptions {
  secrets: SecretBox
  /** This instance's data directory: its own settings (window, local API, preferences) stay there, not in the shared store. */
  dataDir: string
  log: (message: string) => void
  /** Writes held in memory while the store refuses them, before capture pauses. */
  maxHeldWrites?: number | undefined
  /** Leadership's timing (tests shorten it). */
  leadership?: Pick<ConnectionLeadershipOptions, 'retryIntervalMs' | 'sessionTimeoutMs'> | undefined
}

/**
 * Opens the shared store (migrating it under its lock), listens for changes, reads the
 * configuration tables and the latest heads; the engine then builds its store from the
 * returned factory. Rejects with PostgresOpenError (a clear message) when it cannot.
 */
export async function openPostgresEngineStore(url: string, options: PostgresEngineStoreOptions): Promise<EngineStoreFactory> {
  const pool = await openPostgres(url, { log: options.log })
  // The engine's listeners come with the factory's call; failures before then are only logged.
  let heard: EngineStoreListeners | undefined
  const failed = (what: string, error: Error): void => (heard ? heard.onStoreError(error) : options.log(`${what} failed: ${error.message}`))
  let feed: ChangeFeed | undefined
  let config: PostgresConfigStores | undefined
  try {
    // Listening before anything is read: nothing committed in between goes unheard.
    feed = new ChangeFeed(pool, { log: options.log })
    await feed.start()
    // Unique per opened store, several of which may share a process (tests, a desktop app viewing while capturing).
    const origin = `${sessionApplicationName('engine')}:${crypto.randomUUID().slice(0, 8)}`
    config = await PostgresConfigStores.open(pool, { secrets: options.secrets, origin, onError: (error) => failed('storing the configuration', error) })
    readableUrls(config, url)
    const heads = await PostgresHeadStore.open(pool, { onError: (error) => failed('storing heads', error) })
    const [openedFeed, openedConfig] = [feed, config]
    return (listeners) => {
      heard = listeners
      return new PostgresEngineStore(pool, url, openedFeed, origin, openedConfig, heads, options, listeners)
    }
  } catch (error) {
    // Nothing of a store that could not be opened stays open (a desktop falls back to its own and goes on).
    await config?.close().catch(() => undefined)
    await feed?.close().catch(() => undefined)
    await pool.end().catch(() => undefined)
    throw error
  }
}

/** Every saved URL opens with this instance's key, or the person learns which key to use. */
function readableUrls(config: PostgresConfigStores, url: string): void {
  try {
    config.connections.list()
  } catch (error) {
    throw new Error(
      `The endpoint URLs saved in ${redactUrl(url)} were sealed with another key (${error instanceof Error ? error.message : String(error)}): every instance sharing a store needs the same secret.key; copy it from the data directory of the instance that added them into this one's.`,
      { cause: error },
    )
  }
}

class PostgresEngineStore implements EngineStore {
  readonly location: string
  readonly health: StorageHealth
  readonly writeGate = <T>(write: () => T): T => write()
  readonly connections: PostgresConfigStores['connections']
  readonly subscriptions: PostgresConfigStores['subscriptions']
  readonly abis: PostgresConfigStores['abis']
  readonly watchlist: PostgresConfigStores['watchlist']
  readonly settings: FileSettingsStore
  readonly tokens: PostgresConfigStores['tokens']
  readonly heads: HeadsApi
  readonly events: EventsApi
  private readonly capture: PostgresCaptureWriter
  private readonly pages: PostgresEventPages
  private readonly retention: PostgresRetentionStore
  private closing: Promise<void> | null = null

  constructor(
    private readonly pool: PostgresPool,
    url: string,
    private readonly feed: ChangeFeed,
    private readonly origin: string,
    private readonly config: PostgresConfigStores,
    private readonly headStore: PostgresHeadStore,
    private readonly options: PostgresEngineStoreOptions,
    listeners: EngineStoreListeners,
  ) {
    this.location = redactUrl(url)
    this.health = new StorageHealth({ file: this.location, log: listeners.log, pendingWrites: () => this.capture.pendingCount + headStore.pendingCount })
    this.connections = config.connections
    this.subscriptions = config.subscriptions
    this.abis = config.abis
    this.watchlist = config.watchlist
    this.settings = new FileSettingsStore(options.dataDir, listeners.log)
    this.tokens = config.tokens
    this.pages = new PostgresEventPages(pool)
    this.capture = new PostgresCaptureWriter(pool, {
      origin,
      ...(options.maxHeldWrites !== undefined ? { maxHeldWrites: options.maxHeldWrites } : {}),
      onError: (error, retry) => {
        this.health.failed('events', error, retry)
        listeners.onStoreError(error)
      },
      onBacklog: listeners.onBacklog,
      onCommitted: () => this.health.succeeded('events'),
    })
    this.retention = new PostgresRetentionStore(pool, async () => {
      await this.capture.settle()
      return this.capture.pendingCount === 0
    })
    this.heads = {
      enqueue: (head) => headStore.enqueue(head),
      enqueueTxCount: (connectionId, hash, txCount) => headStore.enqueueTxCount(connectionId, hash, txCount),
      flush: () => headStore.flush(),
      settle: () => headStore.settled(),
      get pendingCount() {
        return headStore.pendingCount
      },
      list: (query) => headStore.list(query),
      latest: (connectionId) => headStore.latest(connectionId),
    }
    const capture = this.capture
    const pages = this.pages
    const subscriptions = config.subscriptions
    this.events = {
      enqueue: (connectionId, streamId, event, receivedAt) => capture.enqueue(connectionId, streamId, event, receivedAt),
      enqueueLog: (connectionId, streamId, log, stored, receivedAt) => capture.enqueueLog(connectionId, streamId, log, stored, receivedAt),
      enqueueRemoved: (streamId, blockHash, logIndex) => capture.enqueueRemoved(streamId, blockHash, logIndex),
      enqueueOrphaned: (connectionId, blockHashes) => capture.enqueueOrphaned(connectionId, blockHashes),
      // The in-memory subscription learns its cursor once the cursor is committed with the rows before it.
      enqueueCursor: (subscriptionId, number, hash) =>
        void capture.enqueueCommitted([CAPTURE_WRITE.subscriptionCursor, number, hash, subscriptionId], 1).then(
          () => subscriptions.noteCursor(subscriptionId, number, hash),
          () => undefined,
        ),
      enqueueCommitted: (ops, count) => capture.enqueueCommitted(ops, count),
      whenIdle: (run) => capture.whenIdle(run),
      get pendingCount() {
        return capture.pendingCount
      },
      get failing() {
        return capture.failing
      },
      settle: () => capture.settle(),
      close: () => capture.close(),
      list: (query) => pages.list(query),
      search: (query, options) => pages.search(query, options),
      iterate: (query) => pages.iterate(query),
      lastId: () => pages.lastId(),
      countByStreamBetween: (afterId, upToId) => pages.countByStreamBetween(afterId, upToId),
      lastAtOf: (streamId, upToId) => pages.lastAtOf(streamId, upToId),
      countByStream: () => pages.countByStream(),
    }
    feed.on('events', (batch) => listeners.onEventsCommitted([batch]))
    feed.on('heads', (batch) => {
      void headStore.noteCommitted(batch).then(() => listeners.onHeadsCommitted(batch))
    })
    feed.on('config', (change) => {
      // This instance's own writes are already in memory.
      if (change.origin === this.origin) return
      void config.reload(change.table).then(
        () => listeners.onConfigChanged?.(change.table),
        (error: unknown) => listeners.log(`reading ${change.table} again failed: ${error instanceof Error ? error.message : String(error)}`),
      )
    })
    // Notifications sent while the feed was down are lost: read everything again.
    feed.on('resync', () => {
      for (const table of CONFIG_TABLES)
        void config.reload(table).then(
          () => listeners.onConfigChanged?.(table),
          () => undefined,
        )
      void headStore.reloadLatest().catch(() => undefined)
    })
  }

  captureTurns(connectionId: number, turn: CaptureTurn): () => Promise<void> {
    const leadership = new ConnectionLeadership(this.pool, connectionId, { ...this.options.leadership, log: this.options.log })
    let released = false
    // The chain of the turn now: its listeners and timers go when the turn changes.
    let held: { close(): unknown } | undefined
    const hold = (chain: { close(): unknown }): void => {
      void held?.close()
      held = chain
    }
    // Turns change one after the other, each opening its chain first.
    let changing = Promise.resolve()
    const next = (change: () => Promise<void>): void => {
      changing = changing.then(change).catch((error: unknown) => {
        this.options.log(`connection ${connectionId}: ${error instanceof Error ? error.message : String(error)}`)
      })
    }
    // Following needs the stored chain: while PostgreSQL cannot give it, try again with backoff (elected meanwhile: capture instead).
    let followFailures = 0
    let followTimer: NodeJS.Timeout | undefined
    const follow = (): void =>
      next(async () => {
        if (released || leadership.isLeader) return
        try {
          const chain = await PostgresFollowedChain.open(this.pool, connectionId, { feed: this.feed, owner: this.origin, log: this.options.log })
          followFailures = 0
          if (!released && !leadership.isLeader) {
            hold(chain)
            turn.follow(chain)
          } else await chain.close()
        } catch (error) {
          const retryInMs = retryDelay(followFailures++)
          this.options.log(`connection ${connectionId}: cannot read its stored chain to follow it (${describeError(error)}); trying again in ${retryInMs} ms`)
          followTimer = setTimeout(follow, retryInMs)
        }
      })
    // Elected: capture once the last capturer's cursors and chain are read; while PostgreSQL cannot give them, try again (holding the lock, nobody else captures).
    let captureFailures = 0
    let captureTimer: NodeJS.Timeout | undefined
    const capture = (): void =>
      next(async () => {
        if (released || !leadership.isLeader) return
        try {
          await this.config.reload('subscriptions')
          await this.capture.settle()
          const chain = await PostgresChainStore.open(this.pool, connectionId, {
            feed: this.feed,
            settleCaptured: async () => {
              await this.capture.settle()
              return this.capture.pendingCount === 0
            },
          })
          captureFailures = 0
          if (!released && leadership.isLeader) {
            this.options.log(`connection ${connectionId}: this instance captures it now`)
            hold(chain)
            turn.capture(chain)
          } else chain.close()
        } catch (error) {
          const retryInMs = retryDelay(captureFailures++)
          this.options.log(`connection ${connectionId}: cannot read its stored chain to capture it (${describeError(error)}); trying again in ${retryInMs} ms`)
          captureTimer = setTimeout(capture, retryInMs)
        }
      })
    leadership.on('elected', capture)
    leadership.on('lost', (reason) => {
      if (released) return
      turn.stop(reason)
      follow()
    })
    follow()
    leadership.start()
    return async () => {
      released = true
      clearTimeout(followTimer)
      clearTimeout(captureTimer)
      await leadership.release()
      await held?.close()
    }
  }

  async serialized<T>(step: () => T | Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let unlocked = false
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [...CONFIGURATION_STEP_LOCK])
      try {
        // What an instance that held the lock before wrote is read before this step decides anything.
        await Promise.all(CONFIG_TABLES.map((table) => this.config.reload(table)))
        const result = await step()
        await this.config.settled()
        return result
      } finally {
        unlocked = await client.query('SELECT pg_advisory_unlock($1, $2)', [...CONFIGURATION_STEP_LOCK]).then(
          () => true,
          () => false,
        )
      }
    } finally {
      // A session whose unlock failed is closed, not pooled: the lock goes with it.
      client.release(!unlocked)
    }
  }

  async forgetChain(connectionId: number): Promise<void> {
    await Promise.all([this.capture.settle(), this.headStore.settled()])
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      for (const table of ['heads', 'events', 'chain_blocks', 'chain_logs', 'chain_cursor', 'token_metadata'])
        await client.query(`DELETE FROM ${table} WHERE connection_id = $1`, [connectionId])
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
    this.config.subscriptions.resetPositions(connectionId)
    await Promise.all([this.config.reload('token_metadata'), this.headStore.reloadLatest()])
  }

  async deleteCaptured(connectionId: number): Promise<void> {
    await Promise.all([this.capture.settle(), this.headStore.settled()])
    await this.pages.deleteForConnection(connectionId)
    await this.headStore.deleteForConnection(connectionId)
  }

  async pruneHeads(connectionId: number, days: number, batch: number, now: number): Promise<number> {
    const pruned = await this.retention.pruneHeads(connectionId, days, batch, now)
    // A connection whose every head went has no latest one any more.
    if (pruned > 0) await this.headStore.reloadLatest()
    return pruned
  }

  pruneEvents(connectionId: number, days: number, batch: number, now: number): Promise<number> {
    return this.retention.pruneEvents(connectionId, days, batch, now)
  }

  storageUse(connectionIds: readonly number[]): ReturnType<PostgresRetentionStore['storageUse']> {
    return this.retention.storageUse(connectionIds)
  }

  compact(): Promise<{ bytesBefore: number; bytesAfter: number }> {
    return this.retention.compact()
  }

  async logsByIndexedTopic(topic0: string, topic: string, limit: number): Promise<StoredLog[]> {
    const { rows } = await this.pool.query<StoredLogRow>(
      `SELECT connection_id, address, topics, data, block_number, tx_hash, canonical FROM chain_logs
       WHERE substr(topics, 1, 66) = $1 AND (substr(topics, 68, 66) = $2 OR substr(topics, 135, 66) = $2)
       ORDER BY block_number DESC, log_index DESC LIMIT $3`,
      [topic0, topic, limit],
    )
    return rows.map(storedLogFromRow)
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([this.capture.close(), this.headStore.close(), this.config.close()])
      const unwritten = this.capture.pendingCount + this.headStore.pendingCount + this.config.pendingWrites
      if (unwritten > 0) this.options.log(`storage: ${unwritten} writes could not be stored in ${this.location} before closing`)
      await this.feed.close()
      await this.pool.end()
    })()
    return this.closing
  }
}
