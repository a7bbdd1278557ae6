/**
 * Saved connections and their live upstreams: each saved endpoint gets a LiveConnection
 * (socket pool and chain tracker) whose heads go to the store. What runs on a connection
 * (subscriptions, the watchlist's capture) is started and stopped through the hooks.
 */
import type { ConnectionStatus, ConnectionWithStatus, Head } from '../../shared/contract'
import type { BackoffOptions } from '../backoff'
import { describeChain } from '../chain-info/finality'
import { redactUrl } from '../redact-url'
import type { ChainStore, FollowedChainStore } from '../store/chain-store'
import type { StoredConnection } from '../store/connection-store'
import type { EngineStore } from '../store/engine-store'
import type { HeartbeatOptions } from '../upstream/upstream-socket'
import { LiveConnection } from './live-connection'
import { NotFoundError } from './not-found-error'

export interface LiveConnectionSettings {
  backoff?: BackoffOptions | undefined
  heartbeat?: Partial<HeartbeatOptions> | undefined
  /** Alchemy allows 1,000 subscriptions per WebSocket; other providers differ. */
  maxSubscriptionsPerSocket?: number | undefined
  /** Finality depth where the upstream has no 'finalized' tag, for every chain (`serve --confirmations`); else per chain and connection. */
  confirmations?: number | undefined
  maxReorgDepth?: number | undefined
}

export interface ConnectionHooks {
  status: (status: ConnectionStatus) => void
  /** The connection is live: start what runs on it. */
  connected: (connectionId: number) => void
  /** Stop what runs on the connection before its sockets close. */
  disconnecting: (connectionId: number) => Promise<void>
  /** The pool is (again) ready for requests. */
  ready: (connectionId: number) => void
  /** Blocks left the chain: whatever was captured from them is taken back. */
  reorg: (connectionId: number, blockHashes: string[]) => void
  /** Everything learned from the connection's old chain was deleted. */
  chainForgotten: (connectionId: number) => void
}

export interface NewConnection {
  name?: string | undefined
  url: string
  httpUrl?: string | undefined
  kind?: 'user' | 'demo'
  confirmations?: number | undefined
}

export class ConnectionsService {
  private readonly live = new Map<number, LiveConnection>()
  /** The live connections this instance captures (all of them on SQLite; those it leads on a shared PostgreSQL). */
  private readonly capturing = new Set<number>()
  /** Per saved connection this instance runs: gives up its turn to capture (EngineStore.captureTurns). */
  private readonly turns = new Map<number, () => Promise<void>>()
  private started = false

  constructor(
    private readonly store: Pick<
      EngineStore,
      'connections' | 'heads' | 'health' | 'writeGate' | 'captureTurns' | 'serialized' | 'forgetChain' | 'deleteCaptured'
    >,
    private readonly settings: LiveConnectionSettings,
    private readonly hooks: ConnectionHooks,
    private readonly log: (message: string) => void,
  ) {}

  /** Connects every saved endpoint not connected yet, with what runs on it, once it is this instance's turn to capture it. */
  start(): void {
    this.started = true
    for (const connection of this.store.connections.list()) if (!this.turns.has(connection.id)) this.connect(connection)
  }

  /**
   * Another instance sharing the store added or removed connections: runs the new ones (when
   * it is this instance's turn) and stops the removed ones. Each new one is announced.
   */
  async sync(): Promise<void> {
    if (!this.started) return
    const saved = this.store.connections.list()
    const ids = new Set(saved.map((connection) => connection.id))
    for (const id of [...this.turns.keys()]) if (!ids.has(id)) await this.disconnect(id)
    for (const connection of saved) {
      if (this.turns.has(connection.id)) continue
      this.connect(connection)
      this.hooks.status(this.withStatus(connection).status)
    }
  }

  list(): ConnectionWithStatus[] {
    return this.store.connections.list().map((connection) => this.withStatus(connection))
  }

  find(predicate: (connection: StoredConnection) => boolean): StoredConnection | undefined {
    return this.store.connections.list().find(predicate)
  }

  /** The saved connection, or NotFoundError. */
  get(id: number): StoredConnection {
    const connection = this.store.connections.get(id)
    if (!connection) throw new NotFoundError(`There is no connection ${id}`)
    return connection
  }

  add(input: NewConnection): ConnectionWithStatus {
    const name = input.name?.trim() || new URL(input.url).host
    const connection = this.store.connections.add({
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

  /**
   * The saved connection to `input.url`, added when there is none: once, however many
   * instances sharing the store start with the same endpoint at the same moment.
   */
  ensure(input: NewConnection): Promise<ConnectionWithStatus> {
    return this.store.serialized(() => {
      const saved = this.find((connection) => connection.url === input.url)
      return saved ? this.withStatus(saved) : this.add(input)
    })
  }

  /** Sets the connection's own confirmation count (null: the chain's default); a live connection uses it from its next finality update. */
  update(id: number, patch: { confirmations: number | null }): ConnectionWithStatus {
    this.get(id)
    this.store.connections.setConfirmations(id, patch.confirmations)
    this.live.get(id)?.setConnectionConfirmations(patch.confirmations)
    return this.withStatus(this.store.connections.get(id)!)
  }

  /**
   * Points a saved connection at a new URL. With `freshChain` (the demo chain: a new chain
   * each run) everything learned from the old chain goes: heads, the tracker's blocks and
   * cursor, captured events, and the watches' cursors, so nothing is compared with a chain
   * that no longer exists.
   */
  async retarget(id: number, url: string, options: { freshChain?: boolean } = {}): Promise<void> {
    await this.disconnect(id)
    this.store.connections.updateUrl(id, url)
    if (options.freshChain) {
      await this.store.forgetChain(id)
      this.hooks.chainForgotten(id)
    }
    const connection = this.store.connections.get(id)
    if (connection) this.connect(connection)
  }

  async remove(id: number): Promise<boolean> {
    await this.disconnect(id)
    const removed = this.store.connections.remove(id)
    if (removed) await this.store.deleteCaptured(id)
    return removed
  }

  async listHeads(query: { connectionId?: number | undefined; limit: number; beforeId?: number | undefined }): Promise<Head[]> {
    await this.store.heads.settle()
    return this.store.heads.list(query)
  }

  /** The chain tracker and pool of a live connection (for watches, requests and finality), captured here or followed. */
  liveConnection(connectionId: number): LiveConnection | undefined {
    return this.live.get(connectionId)
  }

  /** The live connection when this instance captures it (subscriptions and the watchlist run only there). */
  capturingConnection(connectionId: number): LiveConnection | undefined {
    return this.capturing.has(connectionId) ? this.live.get(connectionId) : undefined
  }

  /** The connections this instance captures. */
  capturingIds(): number[] {
    return [...this.capturing]
  }

  /** Closes every socket (what runs on them is stopped by its owners first) and gives up the turns to capture. */
  async close(): Promise<void> {
    // Turns forgotten first: a change of turn still queued then starts nothing.
    const turns = [...this.turns.values()]
    this.turns.clear()
    await Promise.all([...this.live.values()].map((connection) => connection.stop()))
    this.live.clear()
    this.capturing.clear()
    await Promise.all(turns.map((release) => release()))
  }

  /**
   * Runs the connection: captures it whenever it is this instance's turn (at once on SQLite),
   * and follows it between turns. Its LiveConnection (sockets, and the chain watches hold)
   * lives until the connection is stopped here; only who keeps its chain changes.
   */
  private connect(connection: StoredConnection): void {
    // Kept before asking: SQLite's turn comes inside captureTurns. A turn given up is not kept, so its late calls do nothing.
    const asked: { release?: () => Promise<void> } = {}
    const giveUp = (): Promise<void> => asked.release?.() ?? Promise.resolve()
    this.turns.set(connection.id, giveUp)
    const ours = (): boolean => this.turns.get(connection.id) === giveUp
    // Turns change one after the other: the follower's turn ends before the capturer's starts.
    let changing = Promise.resolve()
    let queued = 0
    const change = (next: () => Promise<void> | void): void => {
      queued += 1
      changing = changing
        .then(next)
        .catch((error: unknown) => this.log(`connection ${connection.id}: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => (queued -= 1))
    }
    const take = (live: LiveConnection, turn: { capture: ChainStore } | { follow: FollowedChainStore }): void => {
      if ('capture' in turn) {
        live.capture(turn.capture)
        this.capturing.add(connection.id)
        this.hooks.connected(connection.id)
      } else live.follow(turn.follow)
    }
    const run = (turn: { capture: ChainStore } | { follow: FollowedChainStore }): void => {
      // SQLite's turn comes at once, inside captureTurns: the connection is live when add() returns.
      if (queued === 0 && !this.live.has(connection.id)) {
        const current = this.store.connections.get(connection.id)
        if (current) take(this.startLive(current), turn)
        return
      }
      change(async () => {
        await this.leaveTurn(connection.id)
        // Another instance may have changed the connection while this one waited for its turn.
        const now = this.store.connections.get(connection.id)
        if (!now || !ours()) return
        take(this.live.get(connection.id) ?? this.startLive(now), turn)
      })
    }
    asked.release = this.store.captureTurns(connection.id, {
      capture: (chain) => {
        if (ours()) run({ capture: chain })
      },
      follow: (chain) => {
        if (ours()) run({ follow: chain })
      },
      stop: (reason) => {
        if (!ours()) return
        this.log(`connection ${connection.id}: stopped capturing (${reason}); another instance may capture it now`)
        change(() => this.leaveTurn(connection.id))
      },
    })
  }

  /** Starts the connection's sockets; its chain is kept by whoever's turn comes (LiveConnection.capture / follow). */
  private startLive(connection: StoredConnection): LiveConnection {
    const live = new LiveConnection({
      id: connection.id,
      url: connection.url,
      httpUrl: connection.httpUrl,
      maxSubscriptionsPerSocket: this.settings.maxSubscriptionsPerSocket,
      backoff: this.settings.backoff,
      heartbeat: this.settings.heartbeat,
      commandLineConfirmations: this.settings.confirmations,
      connectionConfirmations: connection.confirmations,
      chainId: connection.chainId,
      maxReorgDepth: this.settings.maxReorgDepth,
      // The tracker retries failed block writes and logs each; the fault itself is said once by `health`.
      log: (message) => {
        if (!this.store.health.isKnownFault(message)) this.log(message)
      },
    })
    live.on('status', (status) => {
      if (this.live.get(connection.id) === live) this.hooks.status(status)
    })
    live.pool.on('ready', () => this.hooks.ready(connection.id))
    // Only the capturing instance stores: the heads (its turn's head subscription), the chain id and what reorgs take back.
    const capturing = (): boolean => this.capturing.has(connection.id) && this.live.get(connection.id) === live
    live.on('head', (head) => {
      if (capturing()) this.store.heads.enqueue({ connectionId: connection.id, ...head, txCount: null, receivedAt: Date.now() })
    })
    live.on('txCount', (hash, txCount) => {
      if (capturing()) this.store.heads.enqueueTxCount(connection.id, hash, txCount)
    })
    live.on('chainId', (chainId) => {
      if (capturing()) this.store.writeGate(() => this.store.connections.setChainId(connection.id, chainId))
    })
    live.chain.on('reorg', (orphaned) => {
      if (capturing())
        this.hooks.reorg(
          connection.id,
          orphaned.map((o) => o.block.hash),
        )
    })
    this.live.set(connection.id, live)
    live.start()
    return live
  }

  private async disconnect(connectionId: number): Promise<void> {
    await this.stopLive(connectionId)
    const release = this.turns.get(connectionId)
    this.turns.delete(connectionId)
    await release?.()
  }

  /** Ends this instance's turn on the connection: what runs on it first (when capturing), then the keeping of its chain. */
  private async leaveTurn(connectionId: number): Promise<void> {
    if (this.capturing.delete(connectionId)) await this.hooks.disconnecting(connectionId)
    await this.live.get(connectionId)?.leaveTurn()
  }

  /** Stops the connection: what runs on it first (when capturing), then its sockets. */
  private async stopLive(connectionId: number): Promise<void> {
    if (this.capturing.delete(connectionId)) await this.hooks.disconnecting(connectionId)
    const live = this.live.get(connectionId)
    this.live.delete(connectionId)
    await live?.stop()
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
          : describeChain(connection.chainId, { commandLine: this.settings.confirmations, connection: connection.confirmations }),
      syncing: null,
      sockets: 0,
      upstreamSubscriptions: 0,
      capturing: null,
    }
    if (status.headNumber === null) status.headNumber = this.store.heads.latest(connection.id)?.number ?? null
    const { url: _url, httpUrl: _httpUrl, chainId: _chainId, ...visible } = connection
    return { ...visible, status }
  }
}
