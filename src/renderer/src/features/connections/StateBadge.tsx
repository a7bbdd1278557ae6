import type { ConnectionState } from '@shared/contract'

const LABELS: Record<ConnectionState, string> = {
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  failed: 'failed',
  stopped: 'stopped',
}

export function StateBadge({ state }: { state: ConnectionState }) {
  return (
    <span className={`badge badge-${state}`} data-testid="connection-state">
      <span className="badge-dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  )
}
