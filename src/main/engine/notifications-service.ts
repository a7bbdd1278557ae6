/**
 * Notifications for what the person marked: subscriptions with notify on, and watched
 * addresses with notify on, from each batch of committed events (rate-limited by Notifier).
 */
import type { CapturedEvent } from '../../shared/contract'
import type { EventsCommitted } from '../store/event-store'
import type { WatchlistStoreApi } from '../store/engine-store'
import type { EventsService } from './events-service'
import { Notifier, type Notification } from './notifier'
import type { SubscriptionsService } from './subscriptions-service'

export class NotificationsService {
  private readonly notifier: Notifier

  constructor(
    private readonly watchlist: Pick<WatchlistStoreApi, 'list'>,
    private readonly subscriptions: Pick<SubscriptionsService, 'stored'>,
    private readonly events: Pick<EventsService, 'committed'>,
    send: (notification: Notification) => void,
  ) {
    this.notifier = new Notifier(send)
  }

  /** A batch of events committed: notes those of notifying subscriptions and watched addresses. */
  async noteCommitted(batch: EventsCommitted): Promise<void> {
    const watched = this.watchlist.list().filter((w) => w.notify)
    const subscriptions = this.subscriptions.stored(batch.connectionId).filter((s) => s.notify && batch.perStream.has(s.streamId))
    if (watched.length === 0 && subscriptions.length === 0) return
    const recent = await this.events.committed({ connectionId: batch.connectionId, afterId: batch.lastId - batch.count, limit: Math.min(batch.count, 1000) })
    const describe = (e: CapturedEvent): string =>
      `${e.decoded?.event ?? e.kind.replace('_', ' ')}${e.blockNumber !== null ? ` in block ${e.blockNumber}` : ''}${e.transactionHash ? ` (tx ${e.transactionHash.slice(0, 10)}…)` : ''}`
    for (const subscription of subscriptions) {
      const mine = recent.filter((e) => e.subscriptionIds.includes(subscription.id) && !e.removed)
      if (mine.length > 0)
        this.notifier.note(
          `subscription:${subscription.id}`,
          subscription.label ?? `${subscription.spec.type} subscription`,
          describe(mine[0]!),
          mine.length,
          subscription.id,
        )
    }
    for (const entry of watched) {
      const touching = recent.filter(
        (e) =>
          !e.removed &&
          JSON.stringify(e.decoded?.args ?? e.payload ?? '')
            .toLowerCase()
            .includes(entry.address),
      )
      if (touching.length > 0) this.notifier.note(`address:${entry.address}`, `${entry.label}`, describe(touching[0]!), touching.length, null)
    }
  }

  stop(): void {
    this.notifier.stop()
  }
}
