/**
 * The Tidewatch engine: saved connections, their live upstream sockets, and the store.
 * Free of Electron, so the desktop app, headless mode and tests run the same code.
 */
import { EventEmitter } from 'node:events'
import path from 'node:path'
import type { ConnectionStatus, ConnectionWithStatus, Head } from '../../shared/contract'
import { ConnectionStore, type StoredConnection } from '../store/connection-store'
import { openDatabase, type Db } from '../store/database'
import { HeadStore, type HeadsCommitted } from '../store/head-store'
import { redactUrl } from '../store/redact-url'
import type { SecretBox } from '../store/secret-box'
import type { BackoffOptions } from './backoff'
import { UpstreamConnection } from './upstream-connection'

export interface EngineOptions {
  dataDir: string
  secrets: SecretBox
  nativeBinding?: string
  backoff?: BackoffOptions
  log?: (message: string) => void
}

export interface EngineEvents {
  status: [ConnectionStatus]
  headsAppended: [HeadsCommitted]
  storeError: [Error]
}

export const DATABASE_FILE = 'tidewatch.sqlite'

export class Engine extends EventEmitter<EngineEvents> {
  readonly db: Db
  private readonly connections: ConnectionStore
  private readonly heads: HeadStore
  private readonly live = new Map<number, UpstreamConnection>()
  private closed = false

  constructor(private readonly options: EngineOptions) {
    super()
    this.db = openDatabase(path.join(options.dataDir, DATABASE_FILE), options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
    this.connections = new ConnectionStore(this.db, options.secrets)
    this.heads = new HeadStore(this.db, {
      onCommitted: (batches) => batches.forEach((batch) => this.emit('headsAppended', batch)),
      onError: (error) => {
        this.log(`store write failed, will retry: ${error.message}`)
        this.emit('storeError', error)
      },
    })
  }

  /** Connects every saved endpoint not connected yet. */
  start(): void {
    for (const connection of this.connections.list()) if (!this.live.has(connection.id)) this.connect(connection)
  }

  listConnections(): ConnectionWithStatus[] {
    return this.connections.list().map((connection) => this.withStatus(connection))
  }

  addConnection(input: { name?: string | undefined; url: string; kind?: 'user' | 'demo' }): ConnectionWithStatus {
    const name = input.name?.trim() || new URL(input.url).host
    const connection = this.connections.add({ name, url: input.url, kind: input.kind ?? 'user' })
    this.log(`added connection ${connection.id} ${redactUrl(input.url)}`)
    this.connect(connection)
    return this.withStatus(connection)
  }

  /** Points a saved connection at a new URL (the demo chain's port changes each run). */
  async retargetConnection(id: number, url: string): Promise<void> {
    await this.live.get(id)?.stop()
    this.live.delete(id)
    this.connections.updateUrl(id, url)
    const connection = this.connections.get(id)
    if (connection) this.connect(connection)
  }

  findConnection(predicate: (connection: StoredConnection) => boolean): StoredConnection | undefined {
    return this.connections.list().find(predicate)
  }

  async removeConnection(id: number): Promise<boolean> {
    const upstream = this.live.get(id)
    this.live.delete(id)
    await upstream?.stop()
    this.heads.flush()
    return this.connections.remove(id)
  }

  listHeads(query: { connectionId?: number | undefined; limit: number; beforeId?: number | undefined }): Head[] {
    this.heads.flush()
    return this.heads.list(query)
  }

  clearHeads(connectionId: number): void {
    this.heads.deleteForConnection(connectionId)
  }

  /** Stops every socket, commits what is queued, closes the database. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.live.values()].map((upstream) => upstream.stop()))
    this.live.clear()
    this.heads.flush()
    this.db.close()
  }

  private connect(connection: StoredConnection): void {
    const upstream = new UpstreamConnection({
      id: connection.id,
      url: connection.url,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      log: (message) => this.log(message),
    })
    upstream.on('status', (status) => {
      if (this.live.get(connection.id) === upstream) this.emit('status', status)
    })
    upstream.on('head', (head, raw) => {
      this.heads.enqueue({
        connectionId: connection.id,
        ...head,
        txCount: null,
        receivedAt: Date.now(),
        headerJson: JSON.stringify(raw),
      })
    })
    upstream.on('txCount', (hash, txCount) => this.heads.enqueueTxCount(connection.id, hash, txCount))
    this.live.set(connection.id, upstream)
    upstream.start()
  }

  private withStatus(connection: StoredConnection): ConnectionWithStatus {
    const status = this.live.get(connection.id)?.getStatus() ?? {
      connectionId: connection.id,
      state: 'stopped' as const,
      lastMessageAt: null,
      reconnectCount: 0,
      lastError: null,
      headNumber: null,
    }
    if (status.headNumber === null) status.headNumber = this.heads.latest(connection.id)?.number ?? null
    const { url: _secret, ...visible } = connection
    return { ...visible, status }
  }

  private log(message: string): void {
    this.options.log?.(message)
  }
}
