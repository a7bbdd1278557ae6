/**
 * JSON-RPC 2.0 over one WebSocket: request/response correlation by id, per-request
 * timeouts, and `eth_subscription` notifications routed by subscription id. A frame the
 * peer gets wrong (not JSON, not JSON-RPC, an answer to an unknown id) is reported through
 * `onProtocolError` and skipped: nothing a peer sends may throw out of the socket handler.
 */
import { EventEmitter } from 'node:events'
import WebSocket from 'ws'

export class JsonRpcError extends Error {
  constructor(
    readonly code: number,
    /** For Tidewatch's own logs and messages: names the method. */
    message: string,
    readonly data?: unknown,
    /** The error message exactly as the upstream wrote it, when the upstream answered with one (/v1/rpc passes it on). */
    readonly upstreamMessage?: string,
  ) {
    super(message)
    this.name = 'JsonRpcError'
  }
}

export class RequestTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} got no answer within ${timeoutMs} ms`)
    this.name = 'RequestTimeoutError'
  }
}

export class ConnectionClosedError extends Error {
  constructor(message = 'The WebSocket connection closed before the answer arrived') {
    super(message)
    this.name = 'ConnectionClosedError'
  }
}

export interface JsonRpcClientOptions {
  /** Default per-request timeout. */
  requestTimeoutMs?: number
  /** Timeout for the WebSocket opening handshake. */
  connectTimeoutMs?: number
  headers?: Record<string, string>
  /** Largest frame accepted; a larger one closes the socket with 1009 and an 'error' event. */
  maxPayload?: number
}

interface Pending {
  method: string
  /** Runs synchronously with the answer, before any later frame is handled. */
  onResult?: (result: unknown) => void
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

export interface JsonRpcClientEvents {
  notification: [subscriptionId: string, result: unknown]
  protocolError: [message: string, frame: string]
  close: [code: number, reason: string]
  error: [error: Error]
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export class JsonRpcClient extends EventEmitter<JsonRpcClientEvents> {
  private readonly pending = new Map<number, Pending>()
  private readonly subscriptionListeners = new Map<string, (result: unknown) => void>()
  private nextId = 1
  private closed = false
  /** Time of the last frame of any kind, for liveness checks. */
  lastMessageAt: number | null = null

  private constructor(
    private readonly socket: WebSocket,
    private readonly requestTimeoutMs: number,
  ) {
    super()
    socket.on('message', (data, isBinary) => this.handleFrame(data, isBinary))
    socket.on('close', (code, reason) => {
      this.closed = true
      this.failAll(new ConnectionClosedError(`Connection closed (code ${code}${reason.length ? `: ${reason.toString()}` : ''})`))
      this.emit('close', code, reason.toString())
    })
    socket.on('error', (error) => this.emit('error', error))
  }

  /** Opens the socket; rejects with a message naming the endpoint's failure. */
  static connect(url: string, options: JsonRpcClientOptions = {}): Promise<JsonRpcClient> {
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        handshakeTimeout: connectTimeoutMs,
        maxPayload: options.maxPayload ?? 256 * 1024 * 1024,
        ...(options.headers ? { headers: options.headers } : {}),
      })
      const onError = (error: Error): void => {
        socket.removeAllListeners()
        socket.on('error', () => undefined)
        socket.terminate()
        reject(describeConnectError(error))
      }
      socket.once('error', onError)
      socket.once('unexpected-response', (_req, res) => {
        onError(new UpgradeRejectedError(res.statusCode ?? 0, res.statusMessage ?? ''))
      })
      socket.once('open', () => {
        socket.removeListener('error', onError)
        socket.removeAllListeners('unexpected-response')
        resolve(new JsonRpcClient(socket, options.requestTimeoutMs ?? 30_000))
      })
    })
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN
  }

  request<T = unknown>(method: string, params: readonly unknown[] = [], timeoutMs = this.requestTimeoutMs, onResult?: (result: unknown) => void): Promise<T> {
    if (!this.isOpen) return Promise.reject(new ConnectionClosedError('The WebSocket connection is not open'))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new RequestTimeoutError(method, timeoutMs))
      }, timeoutMs)
      this.pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject, timer, ...(onResult ? { onResult } : {}) })
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }), (error) => {
        if (!error) return
        const entry = this.pending.get(id)
        if (!entry) return
        clearTimeout(entry.timer)
        this.pending.delete(id)
        reject(error)
      })
    })
  }

  /**
   * `eth_subscribe`; returns the upstream's subscription id. The listener is attached the
   * moment the answer is read: providers send the first notification right behind it,
   * often in the same TCP read, before an awaiting caller could register anything.
   * Notifications for ids without a listener are emitted as 'notification'.
   */
  async subscribe(params: readonly unknown[], listener?: (result: unknown) => void): Promise<string> {
    const id = await this.request<unknown>('eth_subscribe', params, this.requestTimeoutMs, (result) => {
      if (listener && typeof result === 'string') this.subscriptionListeners.set(result, listener)
    })
    if (typeof id !== 'string') throw new JsonRpcError(-32603, `eth_subscribe returned ${JSON.stringify(id)} instead of a subscription id`)
    return id
  }

  async unsubscribe(subscriptionId: string): Promise<boolean> {
    this.subscriptionListeners.delete(subscriptionId)
    return (await this.request<boolean>('eth_unsubscribe', [subscriptionId])) === true
  }

  /** WebSocket-level ping; resolves when the pong arrives. */
  ping(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.isOpen) return reject(new ConnectionClosedError())
      const timer = setTimeout(() => {
        this.socket.off('pong', onPong)
        reject(new RequestTimeoutError('ping', timeoutMs))
      }, timeoutMs)
      const onPong = (): void => {
        clearTimeout(timer)
        resolve()
      }
      this.socket.once('pong', onPong)
      this.socket.ping()
    })
  }

  close(code = 1000, reason = 'closing'): void {
    if (this.closed) return
    this.closed = true
    this.failAll(new ConnectionClosedError('The connection was closed by Tidewatch'))
    this.socket.close(code, reason)
    // A peer that never completes the closing handshake must not keep the socket alive.
    setTimeout(() => this.socket.terminate(), 2_000).unref()
  }

  /** Drops the socket at once, as a dead connection is dropped. */
  terminate(): void {
    this.closed = true
    this.failAll(new ConnectionClosedError('The connection was dropped'))
    this.socket.terminate()
  }

  private failAll(error: Error): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer)
      entry.reject(error)
      this.pending.delete(id)
    }
  }

  private handleFrame(data: WebSocket.RawData, isBinary: boolean): void {
    this.lastMessageAt = Date.now()
    // ws hands over a Buffer for most frames; only fragmented or ArrayBuffer frames need assembling.
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8')
    let parsed: Json
    try {
      parsed = JSON.parse(text) as Json
    } catch {
      this.protocolError(`not JSON${isBinary ? ' (binary frame)' : ''}`, text)
      return
    }
    // A batch answer is an array of single answers.
    const messages = Array.isArray(parsed) ? parsed : [parsed]
    for (const message of messages) this.handleMessage(message, text)
  }

  private handleMessage(message: Json, frame: string): void {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      this.protocolError('not a JSON-RPC object', frame)
      return
    }
    if (message.method === 'eth_subscription') {
      const params = message.params
      if (params && typeof params === 'object' && !Array.isArray(params) && typeof params.subscription === 'string' && 'result' in params) {
        this.notification(params.subscription, params.result)
      } else {
        this.protocolError('eth_subscription without params.subscription and params.result', frame)
      }
      return
    }
    // The seed's syncing example is a bare `{"subscription": ..., "result": ...}`, without the envelope.
    if (message.id === undefined && message.method === undefined && typeof message.subscription === 'string' && 'result' in message) {
      this.notification(message.subscription, message.result)
      return
    }
    const id = message.id
    if (typeof id !== 'number') {
      this.protocolError(id === undefined ? 'neither a notification nor an answer' : `answer with unexpected id ${JSON.stringify(id)}`, frame)
      return
    }
    const entry = this.pending.get(id)
    if (!entry) {
      this.protocolError(`answer to unknown or timed-out request id ${id}`, frame)
      return
    }
    clearTimeout(entry.timer)
    this.pending.delete(id)
    const error = message.error
    if (error !== undefined && error !== null) {
      if (typeof error === 'object' && !Array.isArray(error)) {
        const code = typeof error.code === 'number' ? error.code : -32603
        const text = typeof error.message === 'string' ? error.message : JSON.stringify(error)
        entry.reject(new JsonRpcError(code, `${entry.method}: ${text}`, error.data, text))
      } else {
        entry.reject(new JsonRpcError(-32603, `${entry.method}: ${JSON.stringify(error)}`))
      }
      return
    }
    if (!('result' in message)) {
      entry.reject(new JsonRpcError(-32603, `${entry.method}: answer has neither result nor error`))
      return
    }
    entry.onResult?.(message.result)
    entry.resolve(message.result)
  }

  private notification(subscription: string, result: unknown): void {
    const listener = this.subscriptionListeners.get(subscription)
    if (listener) listener(result)
    else this.emit('notification', subscription, result)
  }

  private protocolError(problem: string, frame: string): void {
    this.emit('protocolError', `Malformed frame from upstream (${problem})`, frame.slice(0, 500))
  }
}

export class UpgradeRejectedError extends Error {
  constructor(
    readonly statusCode: number,
    statusMessage: string,
  ) {
    super(`The server refused the WebSocket upgrade with HTTP ${statusCode}${statusMessage ? ` ${statusMessage}` : ''}`)
    this.name = 'UpgradeRejectedError'
  }
}

/** Turns socket errors into messages a person can act on. */
export function describeConnectError(error: Error): Error {
  if (error instanceof UpgradeRejectedError) {
    if (error.statusCode === 401 || error.statusCode === 403) {
      return Object.assign(new UpgradeRejectedError(error.statusCode, ''), {
        message: `${error.message}: the API key was rejected; check the key in the URL`,
      })
    }
    if (error.statusCode === 429) {
      return Object.assign(new UpgradeRejectedError(429, ''), {
        message: `${error.message}: rate limited by the provider`,
      })
    }
    return error
  }
  const code = (error as NodeJS.ErrnoException).code
  switch (code) {
    case 'ECONNREFUSED':
      return new Error(`Connection refused (ECONNREFUSED): nothing is listening at that address`)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`Host not found (${code}): check the host name`)
    case 'ETIMEDOUT':
      return new Error(`Connection timed out (ETIMEDOUT)`)
    default:
      return error
  }
}
