/**
 * One saved endpoint kept alive: connects, subscribes to newHeads, reconnects with backoff
 * and resubscribes after any drop. Reports its state for the UI. Credentials problems stop
 * the retries (retrying a rejected key only earns a ban).
 */
import { EventEmitter } from 'node:events'
import type { ConnectionStatus } from '../../shared/contract'
import { JsonRpcClient, UpgradeRejectedError } from '../rpc/json-rpc-client'
import { redactSecretsIn } from '../store/redact-url'
import { backoffDelay, type BackoffOptions } from './backoff'
import { parseHeader, type ParsedHead } from './head-parser'

export interface UpstreamConnectionOptions {
  id: number
  url: string
  backoff?: BackoffOptions
  requestTimeoutMs?: number
  log?: (message: string) => void
}

export interface UpstreamConnectionEvents {
  status: [ConnectionStatus]
  head: [head: ParsedHead, raw: unknown]
  txCount: [hash: string, txCount: number]
}

export class UpstreamConnection extends EventEmitter<UpstreamConnectionEvents> {
  private client: JsonRpcClient | null = null
  private stopped = false
  private attempt = 0
  private retryTimer: NodeJS.Timeout | null = null
  private headsSubscription: string | null = null
  private status: ConnectionStatus

  constructor(private readonly options: UpstreamConnectionOptions) {
    super()
    this.status = { connectionId: options.id, state: 'connecting', lastMessageAt: null, reconnectCount: 0, lastError: null, headNumber: null }
  }

  get id(): number {
    return this.options.id
  }

  getStatus(): ConnectionStatus {
    return { ...this.status }
  }

  start(): void {
    this.stopped = false
    void this.connect()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    const client = this.client
    this.client = null
    if (client?.isOpen && this.headsSubscription) await client.unsubscribe(this.headsSubscription).catch(() => false)
    client?.close()
    this.update({ state: 'stopped' })
  }

  private async connect(): Promise<void> {
    this.update({ state: this.attempt === 0 && this.status.reconnectCount === 0 ? 'connecting' : 'reconnecting' })
    let client: JsonRpcClient
    try {
      client = await JsonRpcClient.connect(this.options.url, { requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000 })
    } catch (error) {
      this.fail(error)
      return
    }
    if (this.stopped) {
      client.close()
      return
    }
    this.client = client
    client.on('notification', () => {
      this.status.lastMessageAt = Date.now()
    })
    client.on('protocolError', (message) => {
      this.update({ lastMessageAt: Date.now(), lastError: message })
      this.log(message)
    })
    client.on('error', (error) => this.log(`socket error: ${error.message}`))
    client.on('close', (code, reason) => {
      if (this.client !== client) return
      this.client = null
      this.headsSubscription = null
      if (this.stopped) return
      this.log(`upstream closed the connection (code ${code}${reason ? `, ${reason}` : ''})`)
      this.scheduleRetry(`Connection closed by the server (code ${code}${reason ? `: ${reason}` : ''})`)
    })
    try {
      this.headsSubscription = await client.subscribe(['newHeads'], (result) => this.onHead(result))
    } catch (error) {
      client.close()
      this.fail(error)
      return
    }
    this.attempt = 0
    this.update({ state: 'connected', lastError: null, lastMessageAt: Date.now() })
  }

  private onHead(result: unknown): void {
    this.status.lastMessageAt = Date.now()
    const parsed = parseHeader(result)
    if (!parsed.ok) {
      this.update({ lastError: parsed.message })
      this.log(parsed.message)
      return
    }
    this.update({ headNumber: parsed.head.number })
    this.emit('head', parsed.head, result)
    this.fetchTxCount(parsed.head.hash)
  }

  /** newHeads carries no transaction count; ask for it without holding up the head. */
  private fetchTxCount(hash: string): void {
    const client = this.client
    if (!client) return
    client
      .request<string>('eth_getBlockTransactionCountByHash', [hash], 10_000)
      .then((count) => {
        if (typeof count === 'string' && /^0x[0-9a-f]+$/i.test(count)) this.emit('txCount', hash, Number.parseInt(count, 16))
      })
      .catch(() => undefined)
  }

  private fail(error: unknown): void {
    const message = this.redact(error instanceof Error ? error.message : String(error))
    if (error instanceof UpgradeRejectedError && (error.statusCode === 401 || error.statusCode === 403)) {
      this.update({ state: 'failed', lastError: message })
      this.log(`giving up: ${message}`)
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

  private update(patch: Partial<ConnectionStatus>): void {
    this.status = { ...this.status, ...patch }
    this.emit('status', this.getStatus())
  }

  private redact(text: string): string {
    return redactSecretsIn(text, this.options.url)
  }

  private log(message: string): void {
    this.options.log?.(`[connection ${this.options.id}] ${this.redact(message)}`)
  }
}
