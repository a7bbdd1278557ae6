/**
 * The configuration stores on PostgreSQL: connections, subscriptions (with streams), ABIs,
 * watchlist, settings and token metadata, with the methods and answers of SQLite's stores
 * (each class implements its SQLite store's *Api type), so the engine keeps calling them
 * synchronously.
 *
 * - Reads answer from memory: every row of these tables is read at open (config-mirror.ts);
 *   they hold tens to thousands of rows.
 * - Writes change memory at once and are written through in the order made, one transaction
 *   at a time, each statement setting only the columns its method changes (other writers
 *   change other columns: the capture writer a watch's cursor, another instance anything),
 *   each transaction announcing its tables on the change feed (config-writer.ts).
 * - New rows get their ids at once, from blocks drawn ahead from each table's sequence
 *   (id-blocks.ts).
 * - `reload(table)` reads a table again when the change feed says another instance changed
 *   it, or when a capturer takes over a connection (the previous leader's cursors); writes of
 *   this instance not yet committed stay applied over what it reads.
 *
 * Start the change feed before opening, so nothing committed between the read at open and the
 * first notification goes unheard (change-feed.ts).
 */
import type { Pool } from 'pg'
import type { SecretBox } from '../secret-box'
import { PostgresAbiStore } from './abi-store'
import type { ConfigTable } from './change-feed'
import { ConfigMirror } from './config-mirror'
import { ConfigWriter, type ConfigWriteFailure } from './config-writer'
import { PostgresConnectionStore } from './connection-store'
import { IdBlock, type IdTable } from './id-blocks'
import { PostgresSettingsStore } from './settings-store'
import { PostgresSubscriptionStore } from './subscription-store'
import { PostgresTokenMetadataStore } from './token-metadata-store'
import { PostgresWatchlistStore } from './watchlist-store'

export interface PostgresConfigStoresOptions {
  /** Seals endpoint URLs: every instance sharing the store must use the same key. */
  secrets: SecretBox
  /** Named in the changes this instance announces (ConfigChanged.origin). */
  origin?: string
  /** A write, a reload or drawing ids failed: retried in `retryInMs`, or given up (null: a write the server refuses for its data, or closing). */
  onError?: (error: Error, failure: ConfigWriteFailure) => void
  /** Ids drawn ahead per table (id-blocks.ts DEFAULT_ID_BLOCK). */
  idBlockSize?: number
  /** How long a write waits for another session's lock before it fails and is retried. */
  lockTimeoutMs?: number
}

export class PostgresConfigStores {
  readonly connections: PostgresConnectionStore
  readonly subscriptions: PostgresSubscriptionStore
  readonly abis: PostgresAbiStore
  readonly watchlist: PostgresWatchlistStore
  readonly settings: PostgresSettingsStore
  readonly tokens: PostgresTokenMetadataStore

  private constructor(
    private readonly mirror: ConfigMirror,
    private readonly writer: ConfigWriter,
    private readonly ids: Record<IdTable, IdBlock>,
    secrets: SecretBox,
  ) {
    this.connections = new PostgresConnectionStore(mirror, writer, ids.connections, secrets)
    this.subscriptions = new PostgresSubscriptionStore(mirror, writer, { subscriptions: ids.subscriptions, streams: ids.streams })
    this.abis = new PostgresAbiStore(mirror, writer, ids.abis)
    this.watchlist = new PostgresWatchlistStore(mirror, writer)
    this.settings = new PostgresSettingsStore(mirror, writer)
    this.tokens = new PostgresTokenMetadataStore(mirror, writer)
  }

  /** Reads every configuration table and draws the first block of ids for each table that gets them. */
  static async open(pool: Pool, options: PostgresConfigStoresOptions): Promise<PostgresConfigStores> {
    const mirror = new ConfigMirror()
    const writer = new ConfigWriter(pool, {
      reloadOf: (table) => mirror.reloadOf(table),
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
    })
    const idOptions = {
      ...(options.idBlockSize !== undefined ? { size: options.idBlockSize } : {}),
      onError: (error: Error, retryInMs: number) => options.onError?.(error, { retryInMs, pendingWrites: writer.pendingWrites }),
    }
    const ids = {
      connections: new IdBlock(pool, 'connections', idOptions),
      subscriptions: new IdBlock(pool, 'subscriptions', idOptions),
      streams: new IdBlock(pool, 'streams', idOptions),
      abis: new IdBlock(pool, 'abis', idOptions),
    }
    const client = await pool.connect()
    let broken = false
    const onClientError = (): void => {
      broken = true
    }
    client.on('error', onClientError)
    try {
      await mirror.load(client)
    } finally {
      client.removeListener('error', onClientError)
      client.release(broken)
    }
    await Promise.all(Object.values(ids).map((block) => block.fill()))
    return new PostgresConfigStores(mirror, writer, ids, options.secrets)
  }

  /**
   * Reads `table` again (subscriptions with their streams), once every write this instance
   * made before has committed; its writes made since stay applied over the rows read.
   */
  reload(table: ConfigTable): Promise<void> {
    return this.writer.reload(this.mirror.reloadOf(table))
  }

  /** Resolves once every write made so far is committed (waiting through retries); rejects if the store closed first. */
  settled(): Promise<void> {
    return this.writer.settled()
  }

  /** Writes made and not yet committed. */
  get pendingWrites(): number {
    return this.writer.pendingWrites
  }

  /** True while a write failed and waits for its retry. */
  get failing(): boolean {
    return this.writer.failing
  }

  /** Stops taking writes and commits the queued ones, waiting at most `boundMs` (config-writer.ts CLOSE_BOUND_MS); what is left is reported. */
  async close(boundMs?: number): Promise<void> {
    for (const block of Object.values(this.ids)) block.close()
    await this.writer.close(boundMs)
  }
}
