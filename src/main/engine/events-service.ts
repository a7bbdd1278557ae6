/**
 * Captured events as the person sees them: pages and exports from the store, decorated with
 * what the store does not hold (subscription ids, finality, decoded arguments).
 */
import type { CapturedEvent, EventKind } from '../../shared/contract'
import type { EventsApi } from '../store/engine-store'
import type { EventQuery, ListedEvent } from '../store/event-store'
import type { StoredSubscription } from '../store/subscription-store'
import { eventLines } from '../export/event-formats'
import type { ExportSource } from '../export/export-service'
import type { AbiService } from './abi-service'
import type { ConnectionsService } from './connections-service'
import { NotFoundError } from './not-found-error'
import type { SubscriptionsService } from './subscriptions-service'

export interface EventListQuery {
  connectionId?: number | undefined
  subscriptionId?: number | undefined
  kind?: EventKind | undefined
  address?: string | undefined
  eventName?: string | undefined
  fromBlock?: number | undefined
  toBlock?: number | undefined
  text?: string | undefined
  limit: number
  beforeId?: number | undefined
  afterId?: number | undefined
}

export interface EventExportQuery {
  subscriptionIds?: number[] | undefined
  connectionId?: number | undefined
  kind?: EventKind | undefined
  fromBlock?: number | undefined
  toBlock?: number | undefined
  fromTime?: number | undefined
  toTime?: number | undefined
}

export class EventsService {
  constructor(
    private readonly store: Pick<EventsApi, 'settle' | 'list' | 'search' | 'iterate' | 'lastId'>,
    private readonly subscriptions: Pick<SubscriptionsService, 'stored' | 'storedById'>,
    private readonly connections: Pick<ConnectionsService, 'liveConnection'>,
    private readonly abis: Pick<AbiService, 'decoder'>,
  ) {}

  async list(query: EventListQuery): Promise<CapturedEvent[]> {
    await this.store.settle()
    const subscriptions = this.subscriptions.stored(query.connectionId)
    const filter = this.filterOf(query, subscriptions)
    return this.decorate(filter.text === undefined ? await this.store.list(filter) : await this.searchedPage(filter), subscriptions)
  }

  /**
   * A text filter's page, the rows `list` gives, read as search pages (each about 20 ms) with
   * the event loop free between them. A text few rows hold reads the whole store: in one
   * statement that held capture, the upstream's heartbeats and every client for as long as it
   * ran (about 25 s at 10,000,000 events).
   */
  private async searchedPage(filter: EventQuery): Promise<ListedEvent[]> {
    const forward = filter.afterId !== undefined
    const rows: ListedEvent[] = []
    for (let query = filter; ;) {
      const page = await this.store.search(query)
      // Newest first: going forward each page is newer than the last, going back older.
      if (forward) rows.unshift(...page.rows)
      else rows.push(...page.rows)
      if (rows.length >= filter.limit || page.next === null) return rows
      const limit = filter.limit - rows.length
      query = forward ? { ...filter, afterId: page.next, limit } : { ...filter, beforeId: page.next, limit }
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** The store's query of a page's filters: a subscription as its stream, an event name as its selectors. */
  private filterOf(query: EventListQuery, subscriptions: StoredSubscription[]): EventQuery {
    let streamIds: number[] | undefined
    if (query.subscriptionId !== undefined) {
      const subscription = subscriptions.find((s) => s.id === query.subscriptionId) ?? this.subscriptions.storedById(query.subscriptionId)
      if (!subscription) throw new NotFoundError(`There is no subscription ${query.subscriptionId}`)
      streamIds = [subscription.streamId]
    }
    const { subscriptionId: _s, eventName, ...rest } = query
    return { ...rest, streamIds, ...(eventName ? { selectors: this.abis.decoder().selectorsNamed(eventName) } : {}) }
  }

  /** A page that answers in a bounded time (EventsApi.search): what it found, decorated, and where the next page starts. */
  async search(query: EventListQuery): Promise<{ events: CapturedEvent[]; next: number | null; newest: number }> {
    await this.store.settle()
    const subscriptions = this.subscriptions.stored(query.connectionId)
    // Read first: whatever the search reads was stored by then or later.
    const newest = await this.store.lastId()
    const page = await this.store.search(this.filterOf(query, subscriptions))
    return { events: this.decorate(page.rows, subscriptions), next: page.next, newest }
  }

  /** Committed rows as the store pages them (`EventStore.list`), decorated; queued rows are not flushed first. */
  async committed(filter: EventQuery): Promise<CapturedEvent[]> {
    return this.decorate(await this.store.list(filter))
  }

  /** Export: the stored rows oldest first, as a lazy sequence, and lines decorated like `list`'s events. */
  async exportRows(query: EventExportQuery): Promise<ExportSource> {
    await this.store.settle()
    const subscriptions = this.subscriptions.stored()
    const streamIds = query.subscriptionIds?.map((id) => {
      const subscription = subscriptions.find((s) => s.id === id)
      if (!subscription) throw new NotFoundError(`There is no subscription ${id}`)
      return subscription.streamId
    })
    const { subscriptionIds: _ids, ...rest } = query
    const { total, pages } = this.store.iterate({ ...rest, streamIds })
    const byStream = subscriptionsByStream(subscriptions)
    const decoder = this.abis.decoder()
    const lines = eventLines({
      subscriptionIds: (streamId) => byStream.get(streamId) ?? [],
      finalized: (connectionId) => this.finalized(connectionId),
      decodeJson: (topics, data, q) => decoder.decodeJson(topics, data, q),
    })
    return { total: await total, pages, lines }
  }

  /** A log's event name and arguments, from the built-in events and the person's ABIs; null when unknown. */
  decodeLog(topics: string[], data: string | null): { event: string; args: Record<string, unknown> } | null {
    const decoded = this.abis.decoder().decode(topics, data)
    return decoded ? { event: decoded.event, args: decoded.args } : null
  }

  /** Adds what the store does not hold: subscription ids, finality, decoded arguments. */
  private decorate(rows: ListedEvent[], subscriptions: StoredSubscription[] = this.subscriptions.stored()): CapturedEvent[] {
    const decoder = this.abis.decoder()
    const byStream = subscriptionsByStream(subscriptions)
    const finalized = new Map<number, number>()
    const finalityOf = (connectionId: number): number => {
      if (!finalized.has(connectionId)) finalized.set(connectionId, this.finalized(connectionId))
      return finalized.get(connectionId)!
    }
    return rows.map(({ streamId, ...event }) => ({
      ...event,
      subscriptionIds: byStream.get(streamId) ?? [],
      irreversible: !event.removed && event.blockNumber !== null && event.blockNumber <= finalityOf(event.connectionId),
      decoded: event.kind === 'log' ? decoder.decode(event.topics, event.data) : null,
    }))
  }

  /** The connection's finalized block as its tracker knows it; -1 when none is known. */
  private finalized(connectionId: number): number {
    return this.connections.liveConnection(connectionId)?.chain.cursor?.finalized ?? -1
  }
}

/** Subscription ids by stream (identical subscriptions share one). */
function subscriptionsByStream(subscriptions: StoredSubscription[]): Map<number, number[]> {
  const byStream = new Map<number, number[]>()
  for (const s of subscriptions) byStream.set(s.streamId, [...(byStream.get(s.streamId) ?? []), s.id])
  return byStream
}
