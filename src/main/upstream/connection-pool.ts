/**
 * All sockets to one endpoint. Providers cap subscriptions per WebSocket (Alchemy: 1,000),
 * so past the cap the pool opens another socket. Identical subscriptions (same
 * `eth_subscribe` params) share one upstream subscription and fan out locally.
 */
import { EventEmitter } from 'node:events'
import type { ConnectionState } from '../../shared/contract'
import type { BackoffOptions } from '../backoff'
import { httpRequest } from './http-rpc'
import { UpstreamSocket, type HeartbeatOptions, type SocketStatus, type SocketSubscription } from './upstream-socket'

export interface PoolOptions {
  url: string
  httpUrl?: string | null | undefined
  maxSubscriptionsPerSocket?: number
  backoff?: BackoffOptions
  heartbeat?: Partial<HeartbeatOptions>
  log?: (message: string) => void
}

export interface PoolStatus extends SocketStatus {
  sockets: number
  upstreamSubscriptions: number
}

export interface SubscriptionHandle {
  release(): Promise<void>
}

interface Listener {
  onResult: (result: unknown) => void
  onError: (error: Error) => void
}

interface Shared {
  socket: UpstreamSocket
  subscription: Promise<SocketSubscription>
  listeners: Set<Listener>
}

export interface PoolEvents {
  status: [PoolStatus]
  ready: [reconnected: boolean]
}

export const DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET = 1000

export class ConnectionPool extends EventEmitter<PoolEvents> {
  private readonly sockets: UpstreamSocket[] = []
  private readonly shared = new Map<string, Shared>()
  private readonly max: number
  private started = false

  constructor(private readonly options: PoolOptions) {
    super()
    this.max = options.maxSubscriptionsPerSocket ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET
    // Each request made while the sockets connect waits on 'ready' once (removed on ready or
    // timeout): a start with many subscriptions has many at once by design, not a leak.
    this.setMaxListeners(0)
  }

  start(): void {
    this.started = true
    if (this.sockets.length === 0) this.openSocket()
    for (const socket of this.sockets) socket.start()
  }

  async stop(): Promise<void> {
    this.started = false
    await Promise.all(this.sockets.map((socket) => socket.stop()))
  }

  get hasHttp(): boolean {
    return Boolean(this.options.httpUrl)
  }

  /** Plain requests go over HTTP when the connection has an HTTP URL, as providers advise. */
  async request<T>(method: string, params: readonly unknown[] = [], timeoutMs = 30_000): Promise<T> {
    if (this.options.httpUrl) return httpRequest<T>(this.options.httpUrl, method, params, timeoutMs)
    const socket = this.sockets.find((s) => s.isConnected) ?? (await this.connectedSocket(Math.min(timeoutMs, 15_000)))
    return socket.request<T>(method, params, timeoutMs)
  }

  /** A request made while every socket is reconnecting waits for one to come back. */
  private connectedSocket(timeoutMs: number): Promise<UpstreamSocket> {
    if (this.sockets.length === 0) return Promise.reject(new Error('The connection is not started'))
    return new Promise((resolve, reject) => {
      const onReady = (): void => {
        const socket = this.sockets.find((s) => s.isConnected)
        if (!socket) return
        clearTimeout(timer)
        this.off('ready', onReady)
        resolve(socket)
      }
      const timer = setTimeout(() => {
        this.off('ready', onReady)
        const status = this.getStatus()
        reject(new Error(`Not connected to the endpoint after ${timeoutMs} ms (${status.lastError ?? status.state})`))
      }, timeoutMs)
      this.on('ready', onReady)
    })
  }

  /**
   * Subscribes (or joins an identical live subscription). Rejects with the upstream's
   * error when the first subscriber's `eth_subscribe` fails.
   */
  async acquire(
    params: readonly unknown[],
    onResult: (result: unknown) => void,
    onError: (error: Error) => void = () => undefined,
  ): Promise<SubscriptionHandle> {
    const key = JSON.stringify(params)
    const listener: Listener = { onResult, onError }
    let entry = this.shared.get(key)
    if (!entry) {
      const socket = this.socketWithRoom()
      const listeners = new Set<Listener>()
      const created: Shared = {
        socket,
        listeners,
        subscription: socket.subscribe(
          params,
          (result) => listeners.forEach((l) => l.onResult(result)),
          (error) => {
            this.shared.delete(key)
            listeners.forEach((l) => l.onError(error))
            this.emitStatus()
          },
        ),
      }
      entry = created
      this.shared.set(key, entry)
      created.subscription.catch(() => {
        if (this.shared.get(key) === created) this.shared.delete(key)
      })
    }
    entry.listeners.add(listener)
    const current = entry
    try {
      await current.subscription
    } catch (error) {
      current.listeners.delete(listener)
      throw error
    }
    this.emitStatus()
    let released = false
    return {
      release: async () => {
        if (released) return
        released = true
        current.listeners.delete(listener)
        if (current.listeners.size > 0 || this.shared.get(key) !== current) return
        this.shared.delete(key)
        await current.socket.unsubscribe(await current.subscription)
        this.emitStatus()
      },
    }
  }

  getStatus(): PoolStatus {
    const statuses = this.sockets.map((s) => s.getStatus())
    const primary = statuses[0] ?? { state: 'stopped' as ConnectionState, lastMessageAt: null, reconnectCount: 0, lastError: null }
    const worst = statuses.find((s) => s.state !== 'connected') ?? primary
    return {
      state: worst.state,
      lastMessageAt: statuses.reduce<number | null>((max, s) => (s.lastMessageAt && (!max || s.lastMessageAt > max) ? s.lastMessageAt : max), null),
      reconnectCount: statuses.reduce((sum, s) => sum + s.reconnectCount, 0),
      lastError: statuses.find((s) => s.lastError)?.lastError ?? null,
      sockets: this.sockets.length,
      upstreamSubscriptions: this.sockets.reduce((sum, s) => sum + s.subscriptionCount, 0),
    }
  }

  private socketWithRoom(): UpstreamSocket {
    const reserved = new Map<UpstreamSocket, number>()
    for (const entry of this.shared.values()) reserved.set(entry.socket, (reserved.get(entry.socket) ?? 0) + 1)
    return this.sockets.find((socket) => (reserved.get(socket) ?? 0) < this.max) ?? this.openSocket()
  }

  private openSocket(): UpstreamSocket {
    const index = this.sockets.length
    const socket = new UpstreamSocket({
      url: this.options.url,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      ...(this.options.heartbeat ? { heartbeat: this.options.heartbeat } : {}),
      log: (message) => this.options.log?.(`socket ${index + 1}: ${message}`),
    })
    socket.on('status', () => this.emitStatus())
    socket.on('ready', (reconnected) => this.emit('ready', reconnected))
    this.sockets.push(socket)
    if (index > 0) this.options.log?.(`opening socket ${index + 1}: ${this.max} subscriptions per socket reached`)
    if (this.started) socket.start()
    return socket
  }

  private emitStatus(): void {
    this.emit('status', this.getStatus())
  }
}
