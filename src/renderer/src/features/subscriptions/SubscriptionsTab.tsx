import { useState } from 'react'
import { useSubscriptions } from './useSubscriptions'
import { EventsTable } from './EventsTable'
import { SubscriptionForm } from './SubscriptionForm'
import { SubscriptionList } from './SubscriptionList'

/** Form, list and events of one connection; render it keyed by the connection so the selection resets. */
export function SubscriptionsTab({ connectionId }: { connectionId: number | null }) {
  const subscriptions = useSubscriptions(connectionId)
  const [chosenId, setChosenId] = useState<number | null>(null)
  // A removed subscription simply stops being selected.
  const selected = subscriptions.rows.find((row) => row.id === chosenId) ?? null

  if (connectionId === null) {
    return (
      <section className="panel">
        <p className="empty-text" data-testid="subscriptions-no-connection">
          Select or add a connection to manage its subscriptions.
        </p>
      </section>
    )
  }

  return (
    <div className="subs-area">
      <SubscriptionForm connectionId={connectionId} onCreate={subscriptions.create} />
      <div className="subs-main">
        <SubscriptionList subscriptions={subscriptions} selectedId={selected?.id ?? null} onSelect={setChosenId} />
        <EventsTable connectionId={connectionId} subscription={selected} onShowAll={() => setChosenId(null)} />
      </div>
    </div>
  )
}
