/**
 * A saved connection while Tidewatch runs: its socket pool, its chain for watches, and its
 * status for the UI. While this instance captures the connection it runs the chain tracker
 * and the chain-head subscription (for the head store and charts); while another instance
 * sharing the store captures it, the chain is followed through the store's change feed and
 * nothing is subscribed upstream. The pool and the chain stay the same across those turns.
 */
import { EventEmitter } from 'node:events'
import type { ConnectionStatus } from '../../shared/contract'
import { ChainTracker } from '../chain/chain-tracker'
import { ConnectionChain } from '../chain/connection-chain'
import { FollowedChain } from '../chain/followed-chain'
import { upstreamChainId } from '../chain/upstream-chain-id'
import { confirmationsFor, describeChain } from '../chain-info/finality'
import type { ChainStore, FollowedChainStore } from '../store/chain-store'
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
  /** Capture from the start, into this chain store (one process owning the store); without it, capture() or follow() says. */
  chainStore?: ChainStore | undefined
  /** `serve --confirmations`: the finality depth for every chain. */
  commandLineConfirmations?: number | undefined
  /** The connection's own confirmation count; null: the chain's default. */
  connectionConfirmations?: number | null | undefined
  /** eth_chainId remembered from the last connect, so the chain's defaults apply before the socket is up. */
  chainId?: number | null | undefined
  maxReorgDepth?: number | undefined
  log: (message: string) => void
}

export interface LiveConnectionEvents {
  status: [ConnectionStatus]
  head: [head: ParsedHead, raw: unknown]
  txCount: [hash: string, txCount: number]
  /** The upstream answered eth_chainId with an id other than the remembered one. */
  chainId: [number]
}

/** Who keeps the chain this turn: this instance's tracker (capturing), or the store's change feed (another instance captures). */
type Keeper = { kind: 'capture'; tracker: ChainTracker } | { kind: 'follow'; followed: FollowedChain }

export class LiveConnection extends EventEmitter<LiveConnectionEvents> {
  readonly pool: ConnectionPool
  /** The chain watches use, the same across turns (chain/connection-chain.ts). */
  readonly chain: ConnectionChain
  private keeper: Keeper | null = null
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
    this.chain = new ConnectionChain(() => new Error(`connection ${options.id} is between turns: nobody keeps its chain yet`))
    // After any reconnect the tracker fills the gap from its cursor before live events resume.
    this.pool.on('ready', () => {
      if (this.keeper?.kind === 'capture') this.keeper.tracker.poke()
    })
    // Every (re)connect: the endpoint may now serve another chain.
    this.pool.on('ready', () => void this.learnChainId())
    if (options.chainStore) this.capture(options.chainStore)
  }

  /** The chain tracker, while this instance captures the connection. */
  get tracker(): ChainTracker {
    if (this.keeper?.kind !== 'capture') throw new Error(`connection ${this.options.id} is not captured by this instance`)
    return this.keeper.tracker
  }

  get capturing(): boolean {
    return this.keeper?.kind === 'capture'
  }

  /** This instance captures the connection from now on, into `store` (after leaveTurn(), if it followed it). */
  capture(store: ChainStore): void {
    if (this.keeper) throw new Error(`connection ${this.options.id}: leave the turn before taking another`)
    const tracker = new ChainTracker({
      store,
      pool: this.pool,
      confirmations: () => confirmationsFor(this.chainId, this.confirmationOverrides()),
      ...(this.options.maxReorgDepth !== undefined ? { maxReorgDepth: this.options.maxReorgDepth } : {}),
      log: (message) => this.options.log(`[connection ${this.options.id}] ${message}`),
    })
    this.keeper = { kind: 'capture', tracker }
    this.chain.setSource(tracker)
    if (this.started && !this.stopped) {
      void this.subscribeHeads()
      if (this.pool.getStatus().state === 'connected') tracker.poke()
    }
    this.emit('status', this.getStatus())
  }

  /** Another instance captures the connection: its chain is followed from the store (after leaveTurn(), if this one captured it). */
  follow(store: FollowedChainStore): void {
    if (this.keeper) throw new Error(`connection ${this.options.id}: leave the turn before taking another`)
    const followed = new FollowedChain(store, {
      chainId: () => this.knownChainId(),
      log: (message) => this.options.log(`[connection ${this.options.id}] ${message}`),
    })
    this.keeper = { kind: 'follow', followed }
    this.chain.setSource(followed)
    // No head subscription runs here: the head is the capturer's, as stored, then as announced.
    const cursor = store.cursor()
    const stored = cursor ? store.canonicalRange(cursor.number, cursor.number)[0]?.block : undefined
    if (stored) [this.headNumber, this.headTimestamp] = [stored.number, stored.timestamp]
    followed.on('blocks', (blocks) => {
      const head = blocks.at(-1)!.block
      ;[this.headNumber, this.headTimestamp] = [head.number, head.timestamp]
      this.emit('status', this.getStatus())
    })
    // Anything committed between the store's read and its first notification.
    followed.poke()
    this.emit('status', this.getStatus())
  }

  /** Ends this turn: the tracker (and the head subscription) or the following stop; watches wait for the next keeper. */
  async leaveTurn(): Promise<void> {
    const keeper = this.keeper
    if (!keeper) return
    this.keeper = null
    this.chain.setSource(null)
    if (keeper.kind === 'capture') {
      keeper.tracker.stop()
      await keeper.tracker.idle().catch(() => undefined)
      const heads = this.heads
      this.heads = null
      await heads?.release()
    } else await keeper.followed.stop()
    this.emit('status', this.getStatus())
  }

  private readonly askChainId = upstreamChainId(() => this.pool.request<unknown>('eth_chainId', [], 10_000))

  /** The chain id as learnt on connecting, or asked now. */
  private knownChainId(): Promise<number> {
    return this.chainId !== null ? Promise.resolve(this.chainId) : this.askChainId()
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

  private started = false

  start(): void {
    this.started = true
    this.pool.start()
    if (this.keeper?.kind === 'capture') void this.subscribeHeads()
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
    await this.leaveTurn()
    // Watches on this connection end, saying so, rather than wait for a keeper that never comes.
    this.chain.close()
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
      capturing: this.keeper === null ? null : this.keeper.kind === 'capture' ? 'here' : 'elsewhere',
    }
  }

  /** The chain-head subscription of the capturing turn `keeper` (a turn that ended meanwhile gives it back). */
  private async subscribeHeads(): Promise<void> {
    const keeper = this.keeper
    const current = (): boolean => !this.stopped && this.keeper === keeper && keeper?.kind === 'capture'
    if (!current() || this.heads) return
    try {
      const heads = await this.pool.acquire(
        ['newHeads'],
        (raw) => {
          if (current()) this.onHead(raw)
        },
        (error) => {
          this.headError = `newHeads subscription lost: ${error.message}`
          if (this.heads === heads) this.heads = null
          if (current()) setTimeout(() => void this.subscribeHeads(), 5_000).unref()
        },
      )
      if (current() && !this.heads) this.heads = heads
      else await heads.release()
    } catch (error) {
      this.headError = `newHeads: ${error instanceof Error ? error.message : String(error)}`
      this.emit('status', this.getStatus())
      if (current()) setTimeout(() => void this.subscribeHeads(), 5_000).unref()
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
    if (this.keeper?.kind === 'capture') this.keeper.tracker.noteHead(raw)
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
