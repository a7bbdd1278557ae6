import { useCallback } from 'react'
import { useClient } from '../../hooks/useClient'
import type { SubscriptionsState } from './useSubscriptions'
import { SubscriptionRow } from './SubscriptionRow'

interface Props {
  subscriptions: SubscriptionsState
  selectedId: number | null
  onSelect(id: number): void
}

/** The subscriptions of the selected connection; clicking one filters the events below to it. */
export function SubscriptionList({ subscriptions, selectedId, onSelect }: Props) {
  const { rows, loaded, error } = subscriptions
  const client = useClient()
  const setNotify = useCallback((id: number, notify: boolean) => client.call('subscriptions.update', { id, notify }), [client])

  const remove = async (id: number): Promise<string | null> => {
    const result = await subscriptions.remove(id)
    return result.ok ? null : result.error.message
  }

  return (
    <section className="panel subscription-list-panel" aria-labelledby="subscription-list-title" data-testid="subscription-list">
      <div className="panel-header">
        <h2 id="subscription-list-title">Subscriptions</h2>
        {loaded && <span className="panel-count">{rows.length}</span>}
        {rows.length > 0 && <span className="panel-hint">click one to see only its events</span>}
      </div>
      {error && (
        <p className="panel-error" role="alert" data-testid="subscriptions-error">
          Could not load subscriptions: {error}
        </p>
      )}
      <div className="panel-body">
        {!loaded ? (
          <p className="muted-text">Loading subscriptions…</p>
        ) : rows.length === 0 ? (
          <p className="empty-text" data-testid="subscriptions-empty">
            No subscriptions on this connection yet. Pick a type in the form (or press <kbd>n</kbd>) and press Subscribe to start capturing events.
          </p>
        ) : (
          <ul className="subscription-rows">
            {rows.map((row) => (
              <SubscriptionRow
                key={row.id}
                subscription={row}
                selected={row.id === selectedId}
                onSelect={onSelect}
                onPause={subscriptions.pause}
                onResume={subscriptions.resume}
                onRemove={remove}
                onNotify={setNotify}
              />
            ))}
          </ul>
        )}
      </div>
    </section>
  )
}
