import type { Subscription } from '@shared/contract'
import { EVENT_KINDS } from '@shared/contract'
import type { RefObject } from 'react'
import type { LiveLogFiltersState } from './useLiveLogFilters'
import { EVENT_NAME_MAX, TEXT_MAX, type LiveFilterDraft } from './liveLogFilters'
import { EVENT_KIND_LABELS } from '../subscriptions/subscriptionSummary'

interface Props {
  filters: LiveLogFiltersState
  subscriptions: readonly Subscription[]
  /** Every connection's subscriptions are listed: name the connection too. */
  showConnection: boolean
  textRef: RefObject<HTMLInputElement | null>
}

function subscriptionName(subscription: Subscription, showConnection: boolean): string {
  const name = subscription.label ?? subscription.type
  return `#${subscription.id} ${name}${showConnection ? ` · connection ${subscription.connectionId}` : ''}`
}

/** Subscription, kind, address, event name, block range and text; each change reloads the list. */
export function LiveLogFilterBar({ filters, subscriptions, showConnection, textRef }: Props) {
  const { draft, issues, applied, set, clear, isEmpty } = filters
  const selectedMissing = draft.subscriptionId !== '' && !subscriptions.some((subscription) => String(subscription.id) === draft.subscriptionId)

  const input = (field: keyof LiveFilterDraft) => ({
    value: draft[field],
    onChange: (event: { target: { value: string } }) => set(field, event.target.value),
  })

  return (
    <div className="live-filters" role="search" aria-label="Filter the live log" data-testid="live-filters">
      <label className="live-filter">
        <span className="live-filter-label">Subscription</span>
        <select data-testid="live-filter-subscription" {...input('subscriptionId')}>
          <option value="">All subscriptions</option>
          {subscriptions.map((subscription) => (
            <option key={subscription.id} value={String(subscription.id)}>
              {subscriptionName(subscription, showConnection)}
            </option>
          ))}
          {selectedMissing && <option value={draft.subscriptionId}>#{draft.subscriptionId} (removed)</option>}
        </select>
      </label>
      <label className="live-filter">
        <span className="live-filter-label">Type</span>
        <select data-testid="live-filter-kind" {...input('kind')}>
          <option value="">All types</option>
          {EVENT_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {EVENT_KIND_LABELS[kind]}
            </option>
          ))}
        </select>
      </label>
      <label className="live-filter live-filter-wide">
        <span className="live-filter-label">Address</span>
        <input
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="0x… contract, sender or recipient"
          aria-invalid={issues.address ? true : undefined}
          aria-describedby={issues.address ? 'live-filter-address-error' : undefined}
          data-testid="live-filter-address"
          {...input('address')}
        />
        {issues.address && (
          <span className="live-filter-error" id="live-filter-address-error" role="alert" data-testid="live-filter-address-error">
            {issues.address}
          </span>
        )}
      </label>
      <label className="live-filter">
        <span className="live-filter-label">Event</span>
        <input
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="e.g. Transfer"
          maxLength={EVENT_NAME_MAX}
          data-testid="live-filter-event"
          {...input('eventName')}
        />
      </label>
      <label className="live-filter live-filter-block">
        <span className="live-filter-label">From block</span>
        <input
          type="text"
          inputMode="numeric"
          autoComplete="off"
          placeholder="any"
          aria-invalid={issues.fromBlock ? true : undefined}
          data-testid="live-filter-from-block"
          {...input('fromBlock')}
        />
        {issues.fromBlock && (
          <span className="live-filter-error" role="alert" data-testid="live-filter-from-block-error">
            {issues.fromBlock}
          </span>
        )}
      </label>
      <label className="live-filter live-filter-block">
        <span className="live-filter-label">To block</span>
        <input
          type="text"
          inputMode="numeric"
          autoComplete="off"
          placeholder="any"
          aria-invalid={issues.toBlock ? true : undefined}
          data-testid="live-filter-to-block"
          {...input('toBlock')}
        />
        {issues.toBlock && (
          <span className="live-filter-error" role="alert" data-testid="live-filter-to-block-error">
            {issues.toBlock}
          </span>
        )}
      </label>
      <label className="live-filter live-filter-wide">
        <span className="live-filter-label">
          Text <kbd className="live-kbd">/</kbd>
        </span>
        <input
          ref={textRef}
          type="search"
          spellCheck={false}
          autoComplete="off"
          placeholder="hash, address, topic or data"
          maxLength={TEXT_MAX}
          data-testid="live-filter-text"
          {...input('text')}
        />
      </label>
      <div className="live-filter-summary">
        <span className={`live-filter-count${applied.active > 0 ? ' is-active' : ''}`} data-testid="live-filter-count" data-count={applied.active}>
          {applied.active === 0 ? 'No filters' : applied.active === 1 ? '1 filter' : `${applied.active} filters`}
        </span>
        <button type="button" className="button button-small" data-testid="live-filter-clear" disabled={isEmpty} onClick={clear}>
          Clear
        </button>
      </div>
    </div>
  )
}
