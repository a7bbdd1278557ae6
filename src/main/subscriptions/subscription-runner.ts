/**
 * Runs one local subscription on a connection's pool: natively where the upstream offers
 * the type, else through an emulator. Normalizes each result and hands it to the capture
 * sink. Rate limits are retried with backoff; only "unsupported" leads to emulation.
 */
import { EventEmitter } from 'node:events'
import { ethSubscribeParams, type SubscriptionSpec } from '../../shared/subscription-params'
import { backoffDelay } from '../backoff'
import type { ConnectionPool, SubscriptionHandle } from '../upstream/connection-pool'
import { ProblemLog } from '../upstream/problem-log'
import { isRateLimit, isUnsupported } from '../upstream/rpc-errors'
import type { NormalizedEvent } from '../store/captured-event'
import { canEmulate, startEmulation, type Emulation } from './emulators'
import { normalize } from './normalize'

export type RunnerState = 'pending' | 'active' | 'error' | 'paused'

export interface RunnerStatus {
  state: RunnerState
  emulated: boolean
  emulation: string | null
  lastError: string | null
}

export interface RunnerEvents {
  status: [RunnerStatus]
}

export interface RunnerOptions {
  pool: ConnectionPool
  spec: SubscriptionSpec
  sink: (event: NormalizedEvent) => void
  /**
   * Each result that normalized OK, as received: /v1/rpc forwards results unchanged, which
   * the normalized event cannot give back (a log's payload is rebuilt from columns).
   * `emulated` says the result came from an emulator, whose syncing results are raw
   * `eth_syncing` answers rather than subscription payloads.
   */
  onRaw?: (raw: unknown, emulated: boolean) => void
  log: (message: string) => void
  syncingPollMs?: number
}

export class SubscriptionRunner extends EventEmitter<RunnerEvents> {
  private handle: SubscriptionHandle | null = null
  private emulation: Emulation | null = null
  private retryTimer: NodeJS.Timeout | null = null
  private attempt = 0
  private running = false
  private status: RunnerStatus = { state: 'paused', emulated: false, emulation: null, lastError: null }
  /** Skipped results and failed lookups, once per problem: they can come with every notification. */
  private readonly problems: ProblemLog

  constructor(private readonly options: RunnerOptions) {
    super()
    this.problems = new ProblemLog(options.log)
  }

  getStatus(): RunnerStatus {
    return { ...this.status }
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.update({ state: 'pending' })
    void this.open()
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.retryTimer) clearTimeout(this.retryTimer)
    const handle = this.handle
    const emulation = this.emulation
    this.handle = null
    this.emulation = null
    await handle?.release()
    await emulation?.stop()
    this.update({ state: 'paused' })
  }

  private deliver = (raw: unknown, emulated = false): void => {
    const normalized = normalize(this.options.spec.type, raw)
    if (!normalized.ok) {
      const message = `${this.options.spec.type} result skipped: ${normalized.message}`
      this.problems.report(message)
      if (this.status.lastError !== message) this.update({ lastError: message })
      return
    }
    this.options.sink(normalized.event)
    this.options.onRaw?.(raw, emulated)
  }

  /** The upstream dropped the subscription (a resubscribe after reconnect failed). */
  private lost = (error: Error): void => {
    if (!this.running) return
    this.handle = null
    void this.emulation?.stop()
    this.emulation = null
    this.options.log(`${this.options.spec.type} subscription lost: ${error.message}`)
    this.handleFailure(error)
  }

  private async open(): Promise<void> {
    const { pool, spec } = this.options
    try {
      const handle = await pool.acquire(ethSubscribeParams(spec), this.deliver, this.lost)
      if (!this.running) return void (await handle.release())
      this.handle = handle
      this.attempt = 0
      this.update({ state: 'active', emulated: false, emulation: null, lastError: null })
    } catch (error) {
      if (this.running) this.handleFailure(error)
    }
  }

  private handleFailure(error: unknown): void {
    const { spec } = this.options
    const message = error instanceof Error ? error.message : String(error)
    if (isUnsupported(error)) {
      if (canEmulate(spec.type)) {
        void this.emulate(message)
        return
      }
      this.update({ state: 'error', lastError: `The upstream does not offer ${spec.type} subscriptions (${message})` })
      return
    }
    const delay = backoffDelay(this.attempt++, { initialMs: 1_000, maxMs: 60_000 })
    this.update({
      state: 'pending',
      lastError: isRateLimit(error)
        ? `Rate limited, retrying in ${Math.round(delay / 1000)} s: ${message}`
        : `${message}; retrying in ${Math.round(delay / 1000)} s`,
    })
    this.retryTimer = setTimeout(() => {
      if (this.running) void this.open()
    }, delay)
  }

  private async emulate(reason: string): Promise<void> {
    try {
      const emulation = await startEmulation(this.options.spec, {
        pool: this.options.pool,
        deliver: (raw) => this.deliver(raw, true),
        fail: this.lost,
        log: (message) => this.problems.report(message),
        ...(this.options.syncingPollMs ? { syncingPollMs: this.options.syncingPollMs } : {}),
      })
      if (!this.running) return void (await emulation.stop())
      this.emulation = emulation
      this.attempt = 0
      this.options.log(`${this.options.spec.type}: upstream does not offer it (${reason}); ${emulation.description}`)
      this.update({ state: 'active', emulated: true, emulation: emulation.description, lastError: null })
    } catch (error) {
      if (!this.running) return
      if (isUnsupported(error)) {
        this.update({
          state: 'error',
          lastError: `Cannot build ${this.options.spec.type} on this upstream: ${error instanceof Error ? error.message : String(error)}`,
        })
        return
      }
      this.handleFailure(error)
    }
  }

  private update(patch: Partial<RunnerStatus>): void {
    this.status = { ...this.status, ...patch }
    this.emit('status', this.getStatus())
  }
}
