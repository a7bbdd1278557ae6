import type { Subscription } from '@shared/contract'

type SubscriptionState = Subscription['state']

const TITLES: Record<SubscriptionState, string> = {
  active: 'Receiving events',
  paused: 'Paused: nothing is requested upstream for it',
  pending: 'Waiting for the upstream to confirm the subscription',
  error: 'The upstream refused or dropped the subscription',
}

export function SubscriptionStateBadge({ state }: { state: SubscriptionState }) {
  return (
    <span className={`badge badge-sub-${state}`} title={TITLES[state]} data-testid="subscription-state">
      <span className="badge-dot" aria-hidden="true" />
      {state}
    </span>
  )
}
