import { formatLocalTime } from '../../ui/format'
import { useNotifications } from './useNotifications'

/** The in-app copy of every engine notification, bottom right, newest last. */
export function NotificationToasts() {
  const { toasts, dismiss } = useNotifications()
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions" data-testid="toasts">
      {toasts.map((toast) => (
        <div key={toast.key} className="toast" role="status" data-testid="toast" data-subscription-id={toast.subscriptionId ?? undefined}>
          <svg className="toast-icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
            <path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15z" />
            <path d="M10 20.5a2 2 0 0 0 4 0" />
          </svg>
          <div className="toast-text">
            <div className="toast-title" data-testid="toast-title">
              {toast.title}
              <span className="toast-time">{formatLocalTime(toast.at)}</span>
            </div>
            {toast.body && (
              <div className="toast-body" data-testid="toast-body">
                {toast.body}
              </div>
            )}
          </div>
          <button
            type="button"
            className="icon-button toast-close"
            aria-label="Dismiss notification"
            data-testid="toast-dismiss"
            onClick={() => dismiss(toast.key)}
          >
            <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
              <path d="M6 6l12 12M18 6L6 18" />
            </svg>
          </button>
        </div>
      ))}
    </div>
  )
}
