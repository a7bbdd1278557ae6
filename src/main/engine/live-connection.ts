/**
 * A saved connection while Tidewatch runs: its socket pool, the chain-head subscription
 * every connection keeps (for the head store and charts), and its status for the UI.
 */
import { EventEmitter } from 'node:events'
import type { ConnectionStatus } from '../../shared/contract'
import { ChainTracker } from '../chain/chain-tracker'
import { confirmationsFor, describeChain } from '../chain-info/finality'
import type { ChainStore } from '../store/chain-store'
import type { BackoffOptions } from '../backoff'
import { ConnectionPool, type SubscriptionHandle } from '../upstream/connection-pool'
import type { HeartbeatOptions } from '../upstream/upstream-socket'
import { ProblemLog } from '../upstream/problem-log'
import { toSafeNumber } from '../upstream/quantity'
import { parseHeader, type ParsedHead } from './head-parser'

export interface LiveConnectionOptions {
  id: number
  url: string
  httpUrl: string | null
  maxSubscriptionsPerSocket?: number | undefined
  backoff?: BackoffOptions | undefined
  heartbeat?: Partial<HeartbeatOptions> | undefined
  /** Where the chain tracker keeps this connection's blocks, logs and cursor. */
  chainStore: ChainStore
  /** `serve --confirmations`: the finality depth for every chain. */
  commandLineConfirmations?: number | undefined
  /** The connection's own confirmation count; null: the chain's default. */
  connectionConfirmations?: number | null | undefined
  /** eth_chainId remembered from the last connect, so the chain's defaults apply before the socket is up. */
  chainId?: number | null | undefined
  maxReorgDepth?: number | undefined
  /** Whether this instance captures the connection (false: another instance sharing the store does, this one follows). */
  capturing?: boolean | undefined
  log: (message: string) => void
}

export interface LiveConnectionEvents {
  status: [ConnectionStatus]
  head: [head: ParsedHead, raw: unknown]
  txCount: [hash: string, txCount: number]
  /** The upstream answered eth_chainId with an id other than the remembered one. */
  chainId: [number]
}

export class LiveConnection extends EventEmitter<LiveConnectionEvents> {
  readonly pool: ConnectionPool
  readonly tracker: ChainTracker
  private heads: SubscriptionHandle | null = null
  private headNumber: number | null = null
  private headTimestamp: number | null = null
  private syncing: ConnectionStatus['syncing'] = null
  private syncingTimer: NodeJS.Timeout | null = null
  private headError: string | null = null
  private stopped = false
  private chainId: number | null
  private connectionConfirmations: number | null
  /** Rejected heads are logged once per problem: a peer may repeat a bad payload every block, or faster. */
  private readonly problems: ProblemLog

  constructor(private readonly options: LiveConnectionOptions) {
    super()
    this.chainId = options.chainId ?? null
    this.connectionConfirmations = options.connectionConfirmations ?? null
    this.problems = new ProblemLog((message) => options.log(`[connection ${options.id}] ${message}`))
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
      store: options.chainStore,
      pool: this.pool,
      confirmations: () => confirmationsFor(this.chainId, this.confirmationOverrides()),
      ...(options.maxReorgDepth !== undefined ? { maxReorgDepth: options.maxReorgDepth } : {}),
      log: (message) => options.log(`[connection ${options.id}] ${message}`),
    })
    // After any reconnect the tracker fills the gap from its cursor before live events resume.
    this.pool.on('ready', () => this.tracker.poke())
    // Every (re)connect: the endpoint may now serve another chain.
    this.pool.on('ready', () => void this.learnChainId())
  }

  /** A new count applies from the next finality update; blocks already final stay final. */
  setConnectionConfirmations(confirmations: number | null): void {
    this.connectionConfirmations = confirmations
    this.emit('status', this.getStatus())
  }

  private confirmationOverrides() {
    return { commandLine: this.options.commandLineConfirmations, connection: this.connectionConfirmations }
  }

  private async learnChainId(): Promise<void> {
    try {
      const answer = await this.pool.request<unknown>('eth_chainId', [], 10_000)
      if (this.stopped) return
      const chainId = typeof answer === 'string' && /^0x[0-9a-f]+$/i.test(answer) ? Number.parseInt(answer, 16) : null
      if (chainId === null || !Number.isSafeInteger(chainId)) {
        this.problems.report(`eth_chainId answered ${JSON.stringify(answer)?.slice(0, 80)}, not a chain id`)
        return
      }
      if (chainId === this.chainId) return
      this.chainId = chainId
      this.emit('chainId', chainId)
      this.emit('status', this.getStatus())
    } catch (error) {
      // The heartbeat reports a dead socket; the chain stays as last known.
      this.options.log(`[connection ${this.options.id}] eth_chainId failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  get id(): number {
    return this.options.id
  }

  start(): void {
    this.pool.start()
    void this.subscribeHeads()
    void this.pollSyncing()
  }

  /** The node's own syncing status for the Node panel; cheap enough to ask every 15 s. */
  private async pollSyncing(): Promise<void> {
    if (this.stopped) return
    try {
      this.syncing = toSyncingStatus(await this.pool.request<unknown>('eth_syncing', [], 10_000))
      this.emit('status', this.getStatus())
    } catch {
      // Some providers do not answer eth_syncing; the panel then shows the head lag only.
    }
    if (!this.stopped) this.syncingTimer = setTimeout(() => void this.pollSyncing(), 15_000).unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.syncingTimer) clearTimeout(this.syncingTimer)
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
      headTimestamp: this.headTimestamp,
      chain: this.chainId === null ? null : describeChain(this.chainId, this.confirmationOverrides()),
      syncing: this.syncing,
      sockets: pool.sockets,
      upstreamSubscriptions: pool.upstreamSubscriptions,
      capturing: this.options.capturing === false ? 'elsewhere' : 'here',
    }
  }

  private async subscribeHeads(): Promise<void> {
    try {
      this.heads = await this.pool.acquire(
        ['newHeads'],
        (raw) => this.onHead(raw),
        (error) => {
          this.headError = `newHeads subscription lost: ${error.message}`
          if (!this.stopped) setTimeout(() => void this.subscribeHeads(), 5_000).unref()
        },
      )
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
      this.problems.report(parsed.message)
      this.emit('status', this.getStatus())
      return
    }
    this.headError = null
    this.headNumber = parsed.head.number
    this.headTimestamp = parsed.head.timestamp
    this.emit('head', parsed.head, raw)
    // The notification is the header: the tracker uses it as is when it extends its cursor.
    this.tracker.noteHead(raw)
    this.emit('status', this.getStatus())
    // newHeads carries no transaction count; ask without holding up the head.
    this.pool
      .request<string>('eth_getBlockTransactionCountByHash', [parsed.head.hash], 10_000)
      .then((count) => {
        const txCount = toSafeNumber(count)
        if (txCount.ok) this.emit('txCount', parsed.head.hash, txCount.value)
        else this.problems.report(`eth_getBlockTransactionCountByHash answer skipped: ${txCount.problem}`)
      })
      .catch(() => undefined)
  }
}

/** eth_syncing answers false or an object of hex (or decimal) quantities; a value out of range shows as unknown. */
export function toSyncingStatus(result: unknown): ConnectionStatus['syncing'] {
  const checkedAt = Date.now()
  if (result === false || result === null) return { syncing: false, startingBlock: null, currentBlock: null, highestBlock: null, checkedAt }
  const o = (typeof result === 'object' ? result : {}) as Record<string, unknown>
  const num = (v: unknown): number | null => {
    if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null
    if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v)
    const parsed = toSafeNumber(v)
    return parsed.ok ? parsed.value : null
  }
  return { syncing: true, startingBlock: num(o.startingBlock), currentBlock: num(o.currentBlock), highestBlock: num(o.highestBlock), checkedAt }
}
