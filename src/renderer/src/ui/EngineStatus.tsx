import type { TransportStatus } from '../transport/status'

const LABELS: Record<TransportStatus['state'], string> = {
  connecting: 'Connecting to engine…',
  connected: 'Engine connected',
  reconnecting: 'Engine connection lost',
  refused: 'Engine refused connection',
}

/** The header pill showing whether this window is talking to the engine. */
export function EngineStatus({ status }: { status: TransportStatus }) {
  return (
    <span className={`engine-status engine-${status.state}`} data-testid="engine-status" data-state={status.state}>
      <span className="badge-dot" aria-hidden="true" />
      {LABELS[status.state]}
    </span>
  )
}
