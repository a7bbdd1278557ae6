/**
 * Token metadata on demand: answers from its cache (the store) at once, and reads the
 * tokens it does not know in the background, a few at a time, so lookups never hold up
 * capture or crowd the upstream. Each token is read once per connection. A read that
 * failed for a passing reason (a timeout, a dropped socket) is tried again after a pause,
 * a few times; one asked for while its connection is down waits for the connection.
 */
import type { TokenMetadata } from '../../shared/contract'
import { readTokenMetadata, type RpcRequest } from './read-token-metadata'

export interface TokenLookupOptions {
  store: {
    get(connectionId: number, address: string): TokenMetadata | undefined
    put(token: TokenMetadata): void
  }
  /** How to ask the connection's upstream; null while it is not connected. */
  requester: (connectionId: number) => RpcRequest | null
  /** Newly read tokens, a batch per turn of the event loop. */
  onResolved: (tokens: TokenMetadata[]) => void
  /** Reads in flight at once, across connections (default 4). */
  concurrency?: number
  /** After a passing failure, how long before the token is read again (default 60 s). */
  retryAfterMs?: number
  /** Reads of one token before giving up until the next start (default 5). */
  maxAttempts?: number
  /** The clock for the pause (tests). */
  now?: () => number
  log?: (message: string) => void
}

interface Pending {
  connectionId: number
  address: string
}

const keyOf = (connectionId: number, address: string): string => `${connectionId}:${address}`

export class TokenLookup {
  private readonly cache = new Map<string, TokenMetadata>()
  private readonly queue: Pending[] = []
  /** Queued or being read. */
  private readonly pending = new Set<string>()
  private readonly retryAt = new Map<string, number>()
  private readonly attempts = new Map<string, number>()
  private readonly retryTimers = new Set<NodeJS.Timeout>()
  /** Per connection: tokens asked for while it had no socket. */
  private readonly waiting = new Map<number, Set<string>>()
  private running = 0
  private resolved: TokenMetadata[] = []
  private announceScheduled = false
  private idleWaiters: (() => void)[] = []
  private stopped = false

  constructor(private readonly options: TokenLookupOptions) {}

  /** The known tokens among these addresses; unknown ones are queued for reading. */
  lookup(connectionId: number, addresses: readonly string[]): TokenMetadata[] {
    const known: TokenMetadata[] = []
    for (const given of new Set(addresses.map((a) => a.toLowerCase()))) {
      const key = keyOf(connectionId, given)
      const cached = this.cache.get(key) ?? this.options.store.get(connectionId, given)
      if (cached) {
        this.cache.set(key, cached)
        known.push(cached)
      } else if ((this.retryAt.get(key) ?? 0) <= this.now() && (this.attempts.get(key) ?? 0) < this.maxAttempts) {
        this.enqueue({ connectionId, address: given })
      }
    }
    this.pump()
    return known
  }

  /** The connection is (again) up: read what was asked for while it was down. */
  resume(connectionId: number): void {
    const addresses = this.waiting.get(connectionId)
    this.waiting.delete(connectionId)
    for (const address of addresses ?? []) this.enqueue({ connectionId, address })
    this.pump()
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private get maxAttempts(): number {
    return this.options.maxAttempts ?? 5
  }

  private enqueue(item: Pending): void {
    const key = keyOf(item.connectionId, item.address)
    if (this.pending.has(key) || this.stopped) return
    this.pending.add(key)
    this.queue.push(item)
  }

  /** Forgets a connection's tokens (its chain was replaced). */
  forget(connectionId: number): void {
    for (const key of [...this.cache.keys(), ...this.retryAt.keys(), ...this.attempts.keys()]) {
      if (key.startsWith(`${connectionId}:`)) {
        this.cache.delete(key)
        this.retryAt.delete(key)
        this.attempts.delete(key)
      }
    }
    this.waiting.delete(connectionId)
  }

  /** Resolves when nothing is queued or being read. */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.retryTimers) clearTimeout(timer)
    this.retryTimers.clear()
    for (const item of this.queue.splice(0)) this.pending.delete(keyOf(item.connectionId, item.address))
    this.settleIdle()
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 4
    while (!this.stopped && this.running < limit && this.queue.length > 0) {
      const item = this.queue.shift()!
      this.running += 1
      void this.read(item).finally(() => {
        this.running -= 1
        this.pump()
        this.settleIdle()
      })
    }
  }

  private async read({ connectionId, address }: Pending): Promise<void> {
    const key = keyOf(connectionId, address)
    try {
      const request = this.options.requester(connectionId)
      if (!request) {
        this.waiting.set(connectionId, (this.waiting.get(connectionId) ?? new Set()).add(address))
        return
      }
      this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1)
      const token = await readTokenMetadata(request, connectionId, address)
      if (this.stopped) return
      this.options.store.put(token)
      this.cache.set(key, token)
      this.retryAt.delete(key)
      this.announce(token)
    } catch (error) {
      const retryAfterMs = this.options.retryAfterMs ?? 60_000
      const again = (this.attempts.get(key) ?? 0) < this.maxAttempts && !this.stopped
      this.retryAt.set(key, this.now() + retryAfterMs)
      if (again) {
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer)
          this.enqueue({ connectionId, address })
          this.pump()
        }, retryAfterMs).unref()
        this.retryTimers.add(timer)
      }
      const detail = error instanceof Error ? error.message : String(error)
      this.options.log?.(
        `token ${address} on connection ${connectionId}: could not read symbol and decimals (${detail}); ${again ? `trying again in ${Math.round(retryAfterMs / 1000)} s` : 'giving up until the next start'}`,
      )
    } finally {
      this.pending.delete(key)
    }
  }

  private announce(token: TokenMetadata): void {
    this.resolved.push(token)
    if (this.announceScheduled) return
    this.announceScheduled = true
    setImmediate(() => {
      this.announceScheduled = false
      const batch = this.resolved
      this.resolved = []
      if (batch.length > 0 && !this.stopped) this.options.onResolved(batch)
    })
  }

  private settleIdle(): void {
    if (this.running > 0 || (this.queue.length > 0 && !this.stopped)) return
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
