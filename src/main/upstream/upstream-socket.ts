/**
 * One WebSocket to an endpoint, kept alive for days: a heartbeat whose probes must be
 * answered within a deadline, reconnection with backoff and jitter, and resubscription of
 * everything it carries after each reconnect. Subscriptions keep a stable local handle;
 * the upstream id behind it changes with every reconnect.
 */
import { EventEmitter } from 'node:events'
import type { ConnectionState } from '../../shared/contract'
import { ConnectionClosedError, JsonRpcClient, JsonRpcError, UpgradeRejectedError } from '../rpc/json-rpc-client'
import { redactSecretsIn } from '../redact-url'
import { backoffDelay, type BackoffOptions } from './backoff'
import { ProblemLog } from './problem-log'
import { AnswerTooLargeError, isRateLimit } from './rpc-errors'

export interface HeartbeatOptions {
  /** Probe when nothing arrived for this long. */
  idleMs: number
  /** A probe (WebSocket ping, JSON-RPC eth_chainId) must be answered within this. */
  deadlineMs: number
}

export interface UpstreamSocketOptions {
  url: string
  backoff?: BackoffOptions
  heartbeat?: Partial<HeartbeatOptions>
  requestTimeoutMs?: number
  /** Largest frame accepted from the upstream; default MAX_FRAME_BYTES. */
  maxFrameBytes?: number
  log?: (message: string) => void
}

/**
 * 64 MiB. Twice geth's own client read limit (32 MiB, `wsDefaultReadLimit` in its
 * rpc/websocket.go), so whatever a geth-based client reads from a node, Tidewatch reads
 * too; a block with full transactions (the alchemy_minedTransactions emulation) is a few
 * MB at today's gas limits. eth_getLogs over long ranges is cut into pieces by
 * backfillRange (src/main/chain/backfill-range.ts), which halves a range whose answer is
 * refused as too large: a request whose answer was dropped for exceeding this limit fails
 * with AnswerTooLargeError, whose message reads as such a refusal ("more than"), so the
 * range is halved as for Infura's 10,000-result refusal. Memory bounds the number from
 * above: ws holds a whole message before JSON.parse, which needs several times its size.
 * Anything larger is a broken or hostile peer: the socket is dropped and reconnected.
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024

export interface SocketSubscription {
  readonly params: readonly unknown[]
  /** Current upstream id; null while (re)subscribing. */
  upstreamId: string | null
  onResult: (result: unknown) => void
  /** A resubscription after reconnect failed; the subscription is no longer live. */
  onError: (error: Error) => void
  /** Set while the first `eth_subscribe` waits for the socket to connect. */
  firstIssue?: { resolve: () => void; reject: (error: Error) => void }
}

export interface SocketStatus {
  state: ConnectionState
  lastMessageAt: number | null
  reconnectCount: number
  lastError: string | null
}

export interface UpstreamSocketEvents {
  status: [SocketStatus]
  /** Connected (again) and every subscription was re-issued. */
  ready: [reconnected: boolean]
}

const DEFAULT_HEARTBEAT: HeartbeatOptions = { idleMs: 15_000, deadlineMs: 10_000 }

export class UpstreamSocket extends EventEmitter<UpstreamSocketEvents> {
  private client: JsonRpcClient | null = null
  private stopped = true
  private attempt = 0
  private retryTimer: NodeJS.Timeout | null = null
  private heartbeatTimer: NodeJS.Timeout | null = null
  private readonly subscriptions = new Set<SocketSubscription>()
  private readonly heartbeat: HeartbeatOptions
  private status: SocketStatus = { state: 'connecting', lastMessageAt: null, reconnectCount: 0, lastError: null }
  private connectedOnce = false
  /** Clients dropped for an oversized frame: their failed requests say so. */
  private readonly oversized = new WeakSet<JsonRpcClient>()
  /** What the peer gets wrong, once per problem: malformed frames can come by the thousand. */
  private readonly problems: ProblemLog

  constructor(private readonly options: UpstreamSocketOptions) {
    super()
    this.heartbeat = { ...DEFAULT_HEARTBEAT, ...options.heartbeat }
    this.problems = new ProblemLog((message) => this.log(message))
  }

  get subscriptionCount(): number {
    return this.subscriptions.size
  }

  get isConnected(): boolean {
    return this.client?.isOpen === true && this.status.state === 'connected'
  }

  getStatus(): SocketStatus {
    return { ...this.status }
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    void this.connect()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.stopHeartbeat()
    for (const subscription of this.subscriptions) {
      subscription.firstIssue?.reject(new Error('The connection was stopped before the subscription was made'))
      delete subscription.firstIssue
    }
    const client = this.client
    this.client = null
    if (client?.isOpen) {
      await Promise.all([...this.subscriptions].filter((s) => s.upstreamId).map((s) => client.unsubscribe(s.upstreamId!).catch(() => false)))
    }
    client?.close()
    this.update({ state: 'stopped' })
  }

  request<T>(method: string, params: readonly unknown[] = [], timeoutMs?: number): Promise<T> {
    const client = this.client
    if (!client) return Promise.reject(new Error(`Not connected to the endpoint (${this.status.lastError ?? this.status.state})`))
    return client.request<T>(method, params, timeoutMs).catch((error: unknown) => {
      if (error instanceof ConnectionClosedError && this.oversized.has(client)) throw new AnswerTooLargeError(method, this.maxFrameBytes)
      throw this.redactError(error)
    })
  }

  private get maxFrameBytes(): number {
    return this.options.maxFrameBytes ?? MAX_FRAME_BYTES
  }

  /**
   * Subscribes now if connected, else as soon as the socket connects; resolves once the
   * upstream accepted it and rejects with the upstream's error (so callers can tell an
   * unsupported type at once). The handle stays valid across reconnects until `unsubscribe`.
   */
  async subscribe(params: readonly unknown[], onResult: (result: unknown) => void, onError: (error: Error) => void): Promise<SocketSubscription> {
    const subscription: SocketSubscription = { params, upstreamId: null, onResult, onError }
    this.subscriptions.add(subscription)
    if (this.client?.isOpen && this.status.state === 'connected') {
      try {
        await this.issue(this.client, subscription)
      } catch (error) {
        this.subscriptions.delete(subscription)
        throw this.redactError(error)
      }
      return subscription
    }
    await new Promise<void>((resolve, reject) => (subscription.firstIssue = { resolve, reject }))
    return subscription
  }

  async unsubscribe(subscription: SocketSubscription): Promise<void> {
    if (!this.subscriptions.delete(subscription)) return
    const id = subscription.upstreamId
    subscription.upstreamId = null
    if (id && this.client?.isOpen) await this.client.unsubscribe(id).catch(() => false)
  }

  private async issue(client: JsonRpcClient, subscription: SocketSubscription): Promise<void> {
    subscription.upstreamId = await client.subscribe(subscription.params, (result) => {
      this.status.lastMessageAt = Date.now()
      subscription.onResult(result)
    })
  }

  private async connect(): Promise<void> {
    this.update({ state: this.connectedOnce || this.attempt > 0 ? 'reconnecting' : 'connecting' })
    let client: JsonRpcClient
    try {
      client = await JsonRpcClient.connect(this.options.url, { requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000, maxPayload: this.maxFrameBytes })
    } catch (error) {
      this.fail(error)
      return
    }
    if (this.stopped) {
      client.close()
      return
    }
    this.client = client
    const oversizedMessage = `The upstream sent a frame of more than ${this.maxFrameBytes / 1024 / 1024} MiB, Tidewatch's limit; dropped the connection (WebSocket code 1009) and reconnecting`
    client.on('notification', (subscriptionId) => {
      this.status.lastMessageAt = Date.now()
      // Also after eth_unsubscribe, for notifications already on their way: harmless either way.
      this.problems.report(`notification for subscription ${JSON.stringify(subscriptionId.slice(0, 80))}, which this connection does not hold; ignored`)
    })
    client.on('protocolError', (message) => {
      if (this.status.lastError !== message) this.update({ lastError: message })
      this.status.lastMessageAt = Date.now()
      this.problems.report(message)
    })
    client.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws has stopped reading and started a closing handshake the peer may never finish: drop it now.
        this.oversized.add(client)
        this.problems.report(oversizedMessage)
        client.terminate()
        return
      }
      this.log(`socket error: ${error.message}`)
    })
    client.on('close', (code, reason) => {
      if (this.client !== client) return
      this.client = null
      this.stopHeartbeat()
      for (const subscription of this.subscriptions) subscription.upstreamId = null
      if (this.stopped) return
      if (this.oversized.has(client)) {
        this.scheduleRetry(oversizedMessage)
        return
      }
      // Providers close on purpose (idle timeouts, 1008 throttling, connection-age caps): expected, logged, survived.
      this.log(`upstream closed the connection (code ${code}${reason ? `, ${reason}` : ''}); reconnecting`)
      this.scheduleRetry(`Connection closed by the server (code ${code}${reason ? `: ${reason}` : ''})`)
    })
    // From the start: a socket that opens and then says nothing (a half-open path, a stalled
    // backend) would otherwise hold every resubscription until its request timeout.
    this.startHeartbeat(client)
    const failed: [SocketSubscription, unknown][] = []
    for (const subscription of [...this.subscriptions]) {
      try {
        await this.issue(client, subscription)
        subscription.firstIssue?.resolve()
        delete subscription.firstIssue
      } catch (error) {
        if (isRateLimit(error) || !client.isOpen) {
          client.terminate()
          this.client = null
          this.fail(error)
          return
        }
        failed.push([subscription, this.redactError(error)])
      }
    }
    const reconnected = this.connectedOnce
    this.connectedOnce = true
    this.attempt = 0
    this.update({ state: 'connected', lastError: null, lastMessageAt: Date.now() })
    for (const [subscription, error] of failed) {
      this.subscriptions.delete(subscription)
      const reason = error instanceof Error ? error : new Error(String(error))
      if (subscription.firstIssue) subscription.firstIssue.reject(reason)
      else subscription.onError(reason)
    }
    this.emit('ready', reconnected)
  }

  /**
   * Both probes need a checked reply: a ping alone detects nothing when a proxy answers it
   * for a dead backend, and a request alone is slow to notice a dead TCP path.
   */
  private startHeartbeat(client: JsonRpcClient): void {
    this.stopHeartbeat()
    const tick = (): void => {
      if (this.client !== client) return
      const idleFor = Date.now() - (client.lastMessageAt ?? 0)
      const probes: Promise<unknown>[] = [client.ping(this.heartbeat.deadlineMs)]
      if (idleFor >= this.heartbeat.idleMs) probes.push(client.request('eth_chainId', [], this.heartbeat.deadlineMs))
      Promise.all(probes).then(
        () => {
          if (this.client === client) this.heartbeatTimer = setTimeout(tick, this.heartbeat.idleMs)
        },
        (error: unknown) => {
          if (this.client !== client) return
          const message = `No answer to the heartbeat within ${this.heartbeat.deadlineMs} ms (${error instanceof Error ? error.message : String(error)}); treating the connection as dead`
          this.log(message)
          this.update({ lastError: message })
          // terminate() emits 'close', which schedules the reconnect.
          client.terminate()
        },
      )
    }
    this.heartbeatTimer = setTimeout(tick, this.heartbeat.idleMs)
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = null
  }

  private fail(error: unknown): void {
    const message = this.redact(error instanceof Error ? error.message : String(error))
    if (error instanceof UpgradeRejectedError && (error.statusCode === 401 || error.statusCode === 403)) {
      this.update({ state: 'failed', lastError: message })
      this.log(`giving up: ${message}`)
      return
    }
    if (isRateLimit(error)) {
      // Back off harder: a throttled key only gets throttled longer by quick retries.
      this.attempt = Math.max(this.attempt, 4)
      this.scheduleRetry(`Rate limited by the provider, backing off: ${message}`)
      return
    }
    this.scheduleRetry(message)
  }

  private scheduleRetry(reason: string): void {
    if (this.stopped) return
    const delay = backoffDelay(this.attempt, this.options.backoff)
    this.attempt += 1
    this.update({ state: 'reconnecting', lastError: this.redact(reason), reconnectCount: this.status.reconnectCount + 1 })
    this.retryTimer = setTimeout(() => void this.connect(), delay)
  }

  private update(patch: Partial<SocketStatus>): void {
    this.status = { ...this.status, ...patch }
    this.emit('status', this.getStatus())
  }

  private redact(text: string): string {
    return redactSecretsIn(text, this.options.url)
  }

  /** A request's error with the URL's secrets masked (some providers quote the URL in their error text). */
  private redactError(error: unknown): unknown {
    if (!(error instanceof Error)) return error
    const message = this.redact(error.message)
    if (error instanceof JsonRpcError) {
      const upstreamMessage = error.upstreamMessage === undefined ? undefined : this.redact(error.upstreamMessage)
      return message === error.message && upstreamMessage === error.upstreamMessage ? error : new JsonRpcError(error.code, message, error.data, upstreamMessage)
    }
    if (message !== error.message) error.message = message
    return error
  }

  private log(message: string): void {
    this.options.log?.(this.redact(message))
  }
}
