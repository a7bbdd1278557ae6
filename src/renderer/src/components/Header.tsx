import type { AppInfo } from '../hooks/useAppInfo'
import type { TransportStatus } from '../transport/status'
import { EngineStatus } from './EngineStatus'

export function Header({ status, info }: { status: TransportStatus; info: AppInfo | null }) {
  return (
    <header className="app-header">
      <div className="brand">
        <svg className="brand-mark" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path d="M2 15c3 0 3-3 6-3s3 3 6 3 3-3 6-3 2 1 2 1" />
          <path d="M2 20c3 0 3-3 6-3s3 3 6 3 3-3 6-3 2 1 2 1" />
          <circle cx="16" cy="6" r="3" />
        </svg>
        <h1>Tidewatch</h1>
        {info && (
          <span className="brand-meta" title={`Data directory: ${info.dataDir}`} data-testid="app-version">
            v{info.version} · {info.transport}
          </span>
        )}
      </div>
      <EngineStatus status={status} />
    </header>
  )
}
