import { useEffect, useRef, useState } from 'react'
import type { CommandResult, Subscription } from '@shared/contract'
import { formatInteger } from '../../ui/format'
import { useNotifications, type DesktopPermission } from '../notifications/useNotifications'
import { HistoryBar } from './HistoryBar'
import { RelativeTime } from '../../ui/RelativeTime'
import { RemoveControl } from '../../ui/RemoveControl'
import { SubscriptionStateBadge } from './SubscriptionStateBadge'
import { explainWatch, summarizeParams, summarizeWatch } from './subscriptionSummary'

interface Props {
  subscription: Subscription
  selected: boolean
  onSelect(id: number): void
  onPause(id: number): Promise<CommandResult<'subscriptions.pause'>>
  onResume(id: number): Promise<CommandResult<'subscriptions.resume'>>
  /** Resolves to an error message, or null when the subscription was removed. */
  onRemove(id: number): Promise<string | null>
  /** Turns the engine's notifications for this subscription on or off (subscriptions.update). */
  onNotify?(id: number, notify: boolean): Promise<CommandResult<'subscriptions.update'>>
}

/** Why notifications of a subscription that has them on only show inside the window. */
function notifyHint(permission: DesktopPermission): string | null {
  switch (permission) {
    case 'granted':
      return null
    case 'denied':
      return 'Desktop notifications are blocked for Tidewatch, so they show inside this window only. Allow notifications for this site in the browser’s settings to get them on the desktop.'
    case 'default':
      return 'Desktop notifications are not allowed yet, so they show inside this window only.'
    case 'unsupported':
      return 'This browser cannot show desktop notifications, so they show inside this window only.'
  }
}

export function SubscriptionRow({ subscription, selected, onSelect, onPause, onResume, onRemove, onNotify }: Props) {
  const { id, type, label, state, watch, cursor, history, complete } = subscription
  const [busy, setBusy] = useState(false)
  const [actionError, setActionError] = useState<string | null>(null)
  const mounted = useRef(true)
  const name = label ?? type
  const notifications = useNotifications()
  /** The answer of subscriptions.update, shown until the list catches up with it. */
  const [notifyOverride, setNotifyOverride] = useState<boolean | null>(null)
  const [notifyBusy, setNotifyBusy] = useState(false)
  const notify = notifyOverride ?? subscription.notify
  const hint = notify ? notifyHint(notifications.permission) : null

  useEffect(() => {
    if (notifyOverride !== null && subscription.notify === notifyOverride) setNotifyOverride(null)
  }, [subscription.notify, notifyOverride])

  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
    }
  }, [])

  const act = async (action: (id: number) => Promise<CommandResult<'subscriptions.pause'> | CommandResult<'subscriptions.resume'>>): Promise<void> => {
    setBusy(true)
    setActionError(null)
    const result = await action(id)
    if (!mounted.current) return
    setBusy(false)
    if (!result.ok) setActionError(result.error.message)
  }

  const toggleNotify = async (next: boolean): Promise<void> => {
    if (!onNotify) return
    setNotifyBusy(true)
    setActionError(null)
    // Asked on the first switch-on, within the click (a browser asks once; Electron grants it).
    // Not awaited: the engine's setting does not wait for the person to answer the prompt.
    if (next) void notifications.requestPermission()
    const result = await onNotify(id, next)
    if (!mounted.current) return
    setNotifyBusy(false)
    if (result.ok) setNotifyOverride(result.value.notify)
    else setActionError(result.error.message)
  }

  return (
    <li
      className={`subscription-row${selected ? ' is-selected' : ''}`}
      data-testid="subscription-row"
      data-subscription-id={id}
      data-state={state}
      data-type={type}
      data-selected={selected ? 'true' : 'false'}
      data-complete={complete ? 'true' : 'false'}
      aria-current={selected ? 'true' : undefined}
      tabIndex={0}
      title={selected ? undefined : 'Show only this subscription’s events'}
      onClick={() => onSelect(id)}
      onKeyDown={(event) => {
        if (event.target === event.currentTarget && (event.key === 'Enter' || event.key === ' ')) {
          event.preventDefault()
          onSelect(id)
        }
      }}
    >
      <div className="subscription-top">
        <span className="subscription-name" data-testid="subscription-name" title={name}>
          {name}
        </span>
        {label !== null && (
          <span className="subscription-type mono" title={type}>
            {type}
          </span>
        )}
        {subscription.emulated && (
          <span
            className="tag tag-emulated"
            data-testid="subscription-emulated"
            title={subscription.emulation ?? 'Built by Tidewatch because the endpoint does not offer this type'}
          >
            emulated
          </span>
        )}
        <span className="connection-top-spacer" />
        <SubscriptionStateBadge state={state} />
        <div className="row-actions" onClick={(event) => event.stopPropagation()} onKeyDown={(event) => event.stopPropagation()}>
          {onNotify && (
            <label
              className={`notify-toggle${notify ? ' is-on' : ''}`}
              title={notify ? 'Notifications on: click to stop them' : 'Get a notification when new events arrive (rate-limited)'}
            >
              <input
                type="checkbox"
                data-testid="subscription-notify"
                data-notify={notify ? 'true' : 'false'}
                checked={notify}
                disabled={notifyBusy}
                onChange={(event) => void toggleNotify(event.target.checked)}
              />
              <svg viewBox="0 0 24 24" width="13" height="13" aria-hidden="true">
                <path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15z" />
                <path d="M10 20.5a2 2 0 0 0 4 0" />
              </svg>
              <span className="notify-toggle-text">Notify me</span>
            </label>
          )}
          {complete ? (
            <span
              className="badge badge-sub-complete"
              data-testid="subscription-complete"
              title="Delivered everything up to its head; with listen off it takes no new blocks"
            >
              <span className="badge-dot" aria-hidden="true" />
              complete
            </span>
          ) : state === 'paused' ? (
            <button type="button" className="button button-small" data-testid="subscription-resume" disabled={busy} onClick={() => void act(onResume)}>
              Resume
            </button>
          ) : (
            <button type="button" className="button button-small" data-testid="subscription-pause" disabled={busy} onClick={() => void act(onPause)}>
              Pause
            </button>
          )}
          <RemoveControl label={name} testIdPrefix="subscription" onConfirm={() => onRemove(id)} />
        </div>
      </div>
      <div className="subscription-params mono" data-testid="subscription-params" title={JSON.stringify(subscription.params)}>
        {summarizeParams(subscription)}
      </div>
      {watch && (
        <div className="subscription-watch mono" data-testid="subscription-watch" title={explainWatch(type, watch)}>
          {summarizeWatch(type, watch)}
        </div>
      )}
      <div className="subscription-stats">
        <span>
          <span className="subscription-count" data-testid="subscription-event-count" data-count={subscription.eventCount}>
            {formatInteger(subscription.eventCount)}
          </span>{' '}
          {subscription.eventCount === 1 ? 'event' : 'events'}
        </span>
        <span className="subtle">·</span>
        <span>
          last{' '}
          {subscription.lastEventAt === null ? (
            <span data-testid="subscription-last-event">never</span>
          ) : (
            <RelativeTime at={subscription.lastEventAt} testId="subscription-last-event" />
          )}
        </span>
        {cursor && (
          <>
            <span className="subtle">·</span>
            <span
              className="subscription-cursor"
              data-testid="subscription-cursor"
              data-block={cursor.number}
              title={`Every block up to ${formatInteger(cursor.number)} (${cursor.hash}) is processed`}
            >
              processed to #{formatInteger(cursor.number)}
            </span>
          </>
        )}
      </div>
      {history && <HistoryBar history={history} />}
      {subscription.lastError && (
        <p className="subscription-error-text" data-testid="subscription-error-text" title={subscription.lastError}>
          {subscription.lastError}
        </p>
      )}
      {hint && (
        <p className="subscription-notify-hint" data-testid="subscription-notify-hint" data-permission={notifications.permission}>
          {hint}
          {notifications.permission === 'default' && (
            <>
              {' '}
              <button
                type="button"
                className="link-button"
                data-testid="subscription-notify-allow"
                onClick={(event) => {
                  event.stopPropagation()
                  void notifications.requestPermission()
                }}
              >
                Allow desktop notifications
              </button>
            </>
          )}
        </p>
      )}
      {actionError && (
        <p className="subscription-error-text" role="alert" data-testid="subscription-action-error">
          {actionError}
        </p>
      )}
    </li>
  )
}
