import { refusalMessage, SERVE_HINT, type TransportStatus } from '../transport/status'

/** A full-width notice while the engine is unreachable; nothing when connected. */
export function TransportBanner({ status }: { status: TransportStatus }) {
  if (status.state === 'reconnecting') {
    return (
      <div className="banner banner-warning" role="status" data-testid="transport-banner" data-kind="reconnecting">
        <strong>Connection to Tidewatch lost, reconnecting…</strong>
        {status.attempt >= 3 && <span> If Tidewatch was restarted, its access token may have changed. {SERVE_HINT}</span>}
      </div>
    )
  }
  if (status.state === 'refused') {
    return (
      <div className="banner banner-error" role="alert" data-testid="transport-banner" data-kind="refused">
        <strong>{refusalMessage(status.reason)}</strong>
        {status.retrying && <span> Retrying…</span>}
      </div>
    )
  }
  return null
}
