/**
 * The subscriptions of every /v1/rpc socket, grouped by canonical parameters: one
 * SubscriptionRunner (so one upstream subscription, or one emulation with its lookups and
 * polls) per distinct subscription on a pool, its results fanned out to every local
 * subscriber. The runner ends when its last subscriber leaves.
 */
import { RPC_ERROR_CODES, type JsonRpcErrorObject } from '../../shared/rpc-protocol'
import { subscriptionKey, type SubscriptionSpec } from '../../shared/subscription-params'
import type { JsonRpcError } from '../rpc/json-rpc-client'
import { SubscriptionRunner, type RunnerStatus } from '../subscriptions/subscription-runner'
import type { ConnectionPool } from '../upstream/connection-pool'
import { observingSubscribeErrors } from '../upstream/observed-pool'
import { isRateLimit, isUnsupported } from '../upstream/rpc-errors'
import { seedShapedResult } from './seed-shaped-result'
import { errorText } from '../error-text'
import { upstreamErrorObject } from './upstream-answers'

export interface Subscriber {
  /** One result, seed-shaped; may come before `started` resolves. */
  deliver(result: unknown): void
  /** The subscription stopped for good after it had started (the upstream dropped it and it cannot be rebuilt). */
  ended(reason: string): void
}

export interface Membership {
  /** Resolves once the subscription runs, natively or emulated; rejects with an RpcSubscriptionError. */
  started: Promise<void>
  /** Leaves the subscription; the last one to leave stops it. Idempotent. */
  release(): void
}

/** Why a subscription could not start, as the JSON-RPC error to answer `eth_subscribe` with. */
export class RpcSubscriptionError extends Error {
  constructor(readonly error: JsonRpcErrorObject) {
    super(error.message)
    this.name = 'RpcSubscriptionError'
  }
}

export interface SharedSubscriptionsOptions {
  log: (message: string) => void
  /** How long an `eth_subscribe` may wait for the upstream (e.g. while it reconnects). */
  startTimeoutMs?: number
  syncingPollMs?: number
}

const DEFAULT_START_TIMEOUT_MS = 30_000

export class SharedSubscriptions {
  private readonly byPool = new WeakMap<ConnectionPool, Map<string, SharedSubscription>>()

  constructor(private readonly options: SharedSubscriptionsOptions) {}

  join(pool: ConnectionPool, spec: SubscriptionSpec, subscriber: Subscriber): Membership {
    let group = this.byPool.get(pool)
    if (!group) {
      group = new Map()
      this.byPool.set(pool, group)
    }
    const key = subscriptionKey(spec)
    let shared = group.get(key)
    if (!shared) {
      const members = group
      const created = new SharedSubscription(pool, spec, this.options, () => {
        if (members.get(key) === created) members.delete(key)
      })
      members.set(key, created)
      shared = created
    }
    return shared.add(subscriber)
  }
}

class SharedSubscription {
  private readonly subscribers = new Set<Subscriber>()
  private readonly runner: SubscriptionRunner
  private readonly started: Promise<void>
  private settle: { resolve: () => void; reject: (error: RpcSubscriptionError) => void } | null = null
  private readonly startTimer: NodeJS.Timeout
  private lastUpstreamError: JsonRpcError | null = null
  /** The syncing emulator reports the current status once; subscribers joining later get it too. */
  private currentSyncing: unknown = undefined
  private ended = false

  constructor(
    private readonly pool: ConnectionPool,
    private readonly spec: SubscriptionSpec,
    private readonly options: SharedSubscriptionsOptions,
    private readonly onEnd: () => void,
  ) {
    this.started = new Promise((resolve, reject) => (this.settle = { resolve, reject }))
    // Each member awaits `started`; the group's own copy must not count as unhandled.
    this.started.catch(() => undefined)
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS
    this.startTimer = setTimeout(() => this.failStart(this.timeoutError(timeoutMs)), timeoutMs)
    this.runner = new SubscriptionRunner({
      pool: observingSubscribeErrors(pool, (error) => this.upstreamRefused(error)),
      spec,
      // Nothing is captured here; results go out raw through onRaw.
      sink: () => undefined,
      onRaw: (raw, emulated) => this.fanOut(seedShapedResult(spec.type, raw, emulated), emulated),
      log: (message) => options.log(`rpc ${spec.type}: ${message}`),
      ...(options.syncingPollMs ? { syncingPollMs: options.syncingPollMs } : {}),
    })
    this.runner.on('status', (status) => this.onStatus(status))
    this.runner.start()
  }

  add(subscriber: Subscriber): Membership {
    this.subscribers.add(subscriber)
    if (this.currentSyncing !== undefined) subscriber.deliver(this.currentSyncing)
    let released = false
    return {
      started: this.started,
      release: () => {
        if (released) return
        released = true
        this.subscribers.delete(subscriber)
        if (this.subscribers.size === 0) this.end()
      },
    }
  }

  private fanOut(result: unknown, emulated: boolean): void {
    if (this.spec.type === 'syncing' && emulated) this.currentSyncing = result
    for (const subscriber of [...this.subscribers]) subscriber.deliver(result)
  }

  private onStatus(status: RunnerStatus): void {
    if (status.state === 'active') {
      clearTimeout(this.startTimer)
      this.settle?.resolve()
      this.settle = null
    } else if (status.state === 'error') {
      const reason = status.lastError ?? `The upstream cannot serve ${this.spec.type}`
      if (this.settle) {
        this.failStart(
          this.lastUpstreamError
            ? upstreamErrorObject(this.lastUpstreamError, 'eth_subscribe')
            : { code: RPC_ERROR_CODES.upstreamUnavailable, message: reason },
        )
        return
      }
      for (const subscriber of [...this.subscribers]) subscriber.ended(reason)
      this.end()
    }
  }

  /**
   * The runner retries every refusal but "unsupported" (which it emulates) and rate limits
   * (which pass); a client waiting for its subscription id is better served by the
   * upstream's answer than by retries it cannot see.
   */
  private upstreamRefused(error: JsonRpcError): void {
    this.lastUpstreamError = error
    if (this.settle && !isUnsupported(error) && !isRateLimit(error)) this.failStart(upstreamErrorObject(error, 'eth_subscribe'))
  }

  private failStart(error: JsonRpcErrorObject): void {
    if (!this.settle) return
    this.settle.reject(new RpcSubscriptionError(error))
    this.settle = null
    this.end()
  }

  private timeoutError(timeoutMs: number): JsonRpcErrorObject {
    const cause = this.runner.getStatus().lastError ?? this.pool.getStatus().lastError
    return {
      code: RPC_ERROR_CODES.upstreamUnavailable,
      message: `The upstream did not start the ${this.spec.type} subscription within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}${cause ? ` (${cause})` : ''}`,
    }
  }

  private end(): void {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.startTimer)
    this.settle?.reject(new RpcSubscriptionError({ code: RPC_ERROR_CODES.upstreamUnavailable, message: 'The subscription was closed before it started' }))
    this.settle = null
    this.subscribers.clear()
    this.onEnd()
    this.runner.removeAllListeners('status')
    this.runner.stop().catch((error: unknown) => this.options.log(`rpc ${this.spec.type}: stopping failed: ${errorText(error)}`))
  }
}
