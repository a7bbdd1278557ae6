/**
 * A saved connection while Tidewatch runs: its socket pool, the chain-head subscription
 * every connection keeps (for the head store and charts), and its status for the UI.
 */
import { EventEmitter } from 'node:events'
import type { ConnectionStatus } from '../../shared/contract'
import { ChainTracker } from '../chain/chain-tracker'
import type { Db } from '../store/database'
import type { BackoffOptions } from '../upstream/backoff'
import { ConnectionPool, type SubscriptionHandle } from '../upstream/connection-pool'
import type { HeartbeatOptions } from '../upstream/upstream-socket'
import { parseHeader, type ParsedHead } from './head-parser'

export interface LiveConnectionOptions {
  id: number
  url: string
  httpUrl: string | null
  maxSubscriptionsPerSocket?: number | undefined
  backoff?: BackoffOptions | undefined
  heartbeat?: Partial<HeartbeatOptions> | undefined
  db: Db
  confirmations?: number | undefined
  maxReorgDepth?: number | undefined
  log: (message: string) => void
}

export interface LiveConnectionEvents {
  status: [ConnectionStatus]
  head: [head: ParsedHead, raw: unknown]
  txCount: [hash: string, txCount: number]
}

export class LiveConnection extends EventEmitter<LiveConnectionEvents> {
  readonly pool: ConnectionPool
  readonly tracker: ChainTracker
  private heads: SubscriptionHandle | null = null
  private headNumber: number | null = null
  private headError: string | null = null
  private stopped = false

  constructor(private readonly options: LiveConnectionOptions) {
    super()
    this.pool = new ConnectionPool({
      url: options.url,
      httpUrl: options.httpUrl,
      ...(options.maxSubscriptionsPerSocket ? { maxSubscriptionsPerSocket: options.maxSubscriptionsPerSocket } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.heartbeat ? { heartbeat: options.heartbeat } : {}),
      log: (message) => options.log(`[connection ${options.id}] ${message}`),
    })
    this.pool.on('status', () => this.emit('status', this.getStatus()))
    this.tracker = new ChainTracker({
      connectionId: options.id,
      db: options.db,
      pool: this.pool,
      ...(options.confirmations !== undefined ? { confirmations: options.confirmations } : {}),
      ...(options.maxReorgDepth !== undefined ? { maxReorgDepth: options.maxReorgDepth } : {}),
      log: (message) => options.log(`[connection ${options.id}] ${message}`),
    })
    // After any reconnect the tracker fills the gap from its cursor before live events resume.
    this.pool.on('ready', () => this.tracker.poke())
  }

  get id(): number {
    return this.options.id
  }

  start(): void {
    this.pool.start()
    void this.subscribeHeads()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.tracker.stop()
    await this.tracker.idle().catch(() => undefined)
    await this.heads?.release()
    await this.pool.stop()
  }

  getStatus(): ConnectionStatus {
    const pool = this.pool.getStatus()
    return {
      connectionId: this.options.id,
      state: pool.state,
      lastMessageAt: pool.lastMessageAt,
      reconnectCount: pool.reconnectCount,
      lastError: pool.lastError ?? this.headError,
      headNumber: this.headNumber,
      sockets: pool.sockets,
      upstreamSubscriptions: pool.upstreamSubscriptions,
    }
  }

  private async subscribeHeads(): Promise<void> {
    try {
      this.heads = await this.pool.acquire(['newHeads'], (raw) => this.onHead(raw), (error) => {
        this.headError = `newHeads subscription lost: ${error.message}`
        if (!this.stopped) setTimeout(() => void this.subscribeHeads(), 5_000).unref()
      })
    } catch (error) {
      this.headError = `newHeads: ${error instanceof Error ? error.message : String(error)}`
      this.emit('status', this.getStatus())
      if (!this.stopped) setTimeout(() => void this.subscribeHeads(), 5_000).unref()
    }
  }

  private onHead(raw: unknown): void {
    const parsed = parseHeader(raw)
    if (!parsed.ok) {
      this.headError = parsed.message
      this.options.log(`[connection ${this.options.id}] ${parsed.message}`)
      this.emit('status', this.getStatus())
      return
    }
    this.headError = null
    this.headNumber = parsed.head.number
    this.emit('head', parsed.head, raw)
    this.tracker.poke()
    this.emit('status', this.getStatus())
    // newHeads carries no transaction count; ask without holding up the head.
    this.pool
      .request<string>('eth_getBlockTransactionCountByHash', [parsed.head.hash], 10_000)
      .then((count) => {
        if (typeof count === 'string' && /^0x[0-9a-f]+$/i.test(count)) this.emit('txCount', parsed.head.hash, Number.parseInt(count, 16))
      })
      .catch(() => undefined)
  }
}
