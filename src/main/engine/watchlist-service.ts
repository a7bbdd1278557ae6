/**
 * The watchlist and what happened to its addresses. Transactions from or to watched
 * addresses, pending and mined, are captured like any subscription (natively where the
 * upstream offers the alchemy_* types, else built by Tidewatch) into streams of their own,
 * and the chain trackers keep their Transfer logs, so the watchlist shows them without the
 * person creating subscriptions.
 */
import { subscriptionSpecSchema } from '../../shared/subscription-params'
import type { EngineStore } from '../store/engine-store'
import { SubscriptionRunner } from '../subscriptions/subscription-runner'
import type { ConnectionsService } from './connections-service'
import type { EventsService } from './events-service'
import { transfersOf, watchlistFilters } from './watchlist-activity'

export interface WatchlistEntryInput {
  address: string
  label: string
  color: string
  notify: boolean
}

export class WatchlistService {
  /** Per connection: the captures that feed the watchlist's activity (transactions from or to watched addresses). */
  private readonly runners = new Map<number, SubscriptionRunner[]>()
  /** Per connection: the tracker filters that keep watched addresses' Transfer logs. */
  private readonly filters = new Map<number, (() => void)[]>()
  private closed = false

  constructor(
    private readonly store: Pick<EngineStore, 'watchlist' | 'subscriptions' | 'events' | 'logsByIndexedTopic'>,
    private readonly connections: Pick<ConnectionsService, 'capturingConnection' | 'capturingIds'>,
    private readonly events: Pick<EventsService, 'committed'>,
    private readonly changed: () => void,
    private readonly log: (message: string) => void,
  ) {}

  list(): ReturnType<EngineStore['watchlist']['list']> {
    return this.store.watchlist.list()
  }

  upsert(entry: WatchlistEntryInput): ReturnType<EngineStore['watchlist']['upsert']> {
    const saved = this.store.watchlist.upsert(entry)
    this.changed()
    this.restartAll()
    return saved
  }

  remove(address: string): boolean {
    const removed = this.store.watchlist.remove(address)
    if (removed) {
      this.changed()
      this.restartAll()
    }
    return removed
  }

  async activity(address: string, limit: number) {
    await this.store.events.settle()
    const transactions = (await this.events.committed({ address, limit: limit * 4 })).filter(
      (e) => e.kind === 'pending_transaction' || e.kind === 'mined_transaction',
    )
    return {
      transfers: await transfersOf((topic0, topic, max) => this.store.logsByIndexedTopic(topic0, topic, max), address, limit),
      transactions: transactions.slice(0, limit),
    }
  }

  /** Restarts the capture on every live connection (the watched addresses changed, or capture resumes). */
  restartAll(): void {
    for (const connectionId of this.connections.capturingIds()) void this.restartCapture(connectionId)
  }

  /** Captures the watched addresses' transactions and keeps their Transfer logs on this connection. */
  async restartCapture(connectionId: number): Promise<void> {
    const previous = this.runners.get(connectionId) ?? []
    this.runners.delete(connectionId)
    this.releaseFilters(connectionId)
    await Promise.all(previous.map((runner) => runner.stop()))
    const live = this.connections.capturingConnection(connectionId)
    const addresses = this.store.watchlist.list().map((w) => w.address)
    if (!live || addresses.length === 0 || this.closed) return
    this.releaseFilters(connectionId)
    this.filters.set(
      connectionId,
      watchlistFilters(addresses).map((filter) => {
        const registration = live.tracker.registerFilter(filter, { keep: true })
        return () => registration.release()
      }),
    )
    const specs = [
      subscriptionSpecSchema.parse({ type: 'alchemy_pendingTransactions', params: { fromAddress: addresses, toAddress: addresses } }),
      subscriptionSpecSchema.parse({ type: 'alchemy_minedTransactions', params: { addresses: addresses.flatMap((a) => [{ from: a }, { to: a }]) } }),
    ]
    const runners = specs.map((spec) => {
      const streamId = this.store.subscriptions.internalStream(connectionId, `watchlist:${spec.type}`)
      const runner = new SubscriptionRunner({
        pool: live.pool,
        spec,
        sink: (event) => this.store.events.enqueue(connectionId, streamId, event),
        log: (message) => this.log(`[watchlist ${spec.type}] ${message}`),
      })
      runner.start()
      return runner
    })
    this.runners.set(connectionId, runners)
  }

  /** The connection is going away: its capture stops and its filters are released. */
  async stopCapture(connectionId: number): Promise<void> {
    await Promise.all((this.runners.get(connectionId) ?? []).map((runner) => runner.stop()))
    this.runners.delete(connectionId)
    this.releaseFilters(connectionId)
  }

  /** Stops the capture on every connection (filters stay: the trackers keep storing the Transfer logs). */
  async stopAllCapture(): Promise<void> {
    const stopping = [...this.runners.values()].flat()
    this.runners.clear()
    await Promise.all(stopping.map((runner) => runner.stop()))
  }

  async close(): Promise<void> {
    this.closed = true
    await this.stopAllCapture()
  }

  private releaseFilters(connectionId: number): void {
    for (const release of this.filters.get(connectionId) ?? []) release()
    this.filters.delete(connectionId)
  }
}
