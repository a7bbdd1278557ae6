import type { Subscription } from '@shared/contract'
import { useEvents } from './useEvents'
import { EventRow } from './EventRow'

const EVENTS_LIMIT = 100

interface Props {
  connectionId: number | null
  /** Only this subscription's events; all of the connection's when null. */
  subscription: Subscription | null
  onShowAll(): void
}

/** The newest captured events, re-queried (throttled) as batches arrive. */
export function EventsTable({ connectionId, subscription, onShowAll }: Props) {
  const { events, error } = useEvents(connectionId, subscription?.id ?? null, EVENTS_LIMIT)
  const scope = subscription ? (subscription.label ?? subscription.type) : 'all subscriptions'

  return (
    <section
      className="panel events-panel"
      data-testid="events-table"
      data-scope={subscription ? String(subscription.id) : 'all'}
      aria-labelledby="events-title"
    >
      <div className="panel-header">
        <h2 id="events-title">Events</h2>
        <span className="events-scope" data-testid="events-scope" title={scope}>
          {scope}
        </span>
        {subscription && (
          <button type="button" className="button button-small" data-testid="events-show-all" onClick={onShowAll}>
            Show all
          </button>
        )}
        {events && events.length > 0 && (
          <span className="panel-hint">
            latest {events.length} · click a row for its payload
            {events.some((event) => event.irreversible) && ' · final = block can no longer be reorganised'}
            {events.some((event) => event.removed) && ' · struck through = removed by a reorg'}
          </span>
        )}
      </div>
      {error && (
        <p className="panel-error" role="alert" data-testid="events-error">
          Could not load events: {error}
        </p>
      )}
      <div className="table-scroll">
        {connectionId === null ? (
          <p className="empty-text" data-testid="events-empty">
            Select a connection to see its events.
          </p>
        ) : events === null ? (
          <p className="muted-text">Loading events…</p>
        ) : events.length === 0 ? (
          <p className="empty-text" data-testid="events-empty">
            {subscription
              ? 'No events for this subscription yet. They appear here as they arrive.'
              : 'No events captured on this connection yet. Create a subscription to start recording.'}
          </p>
        ) : (
          <table className="heads events">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th className="num" scope="col">
                  Block
                </th>
                <th scope="col">Tx hash</th>
                <th scope="col">Address / from → to</th>
                <th scope="col">Topic 0</th>
                <th scope="col">Received</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <EventRow key={event.id} event={event} />
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  )
}
