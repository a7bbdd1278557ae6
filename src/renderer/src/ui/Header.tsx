import type { AppInfo } from '../hooks/useAppInfo'
import { useTheme } from './useTheme'
import type { TransportStatus } from '../transport/status'
import { EngineStatus } from './EngineStatus'
import type { ExportActivity } from '../features/export/ExportDialog'

interface Props {
  status: TransportStatus
  info: AppInfo | null
  /** Opens the export dialog; absent (button disabled) while no connection is selected. */
  onExport?: () => void
  exportActivity?: ExportActivity | null
  onSettings?: () => void
}

function exportButtonText(activity: ExportActivity | null | undefined): string {
  if (activity?.state !== 'running') return 'Export'
  return activity.percent === null ? 'Exporting…' : `Exporting ${activity.percent}%`
}

export function Header({ status, info, onExport, exportActivity, onSettings }: Props) {
  const theme = useTheme()
  const next = theme.theme === 'dark' ? 'light' : 'dark'
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
      <div className="header-actions">
        <EngineStatus status={status} />
        <button
          type="button"
          className={`button header-button${exportActivity?.state === 'running' ? ' is-busy' : ''}`}
          data-testid="export-open"
          data-export-state={exportActivity?.state}
          disabled={!onExport}
          title={onExport ? 'Export captured events to CSV, NDJSON or JSON' : 'Select a connection to export its events'}
          onClick={onExport}
        >
          <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true">
            <path d="M12 4v11M7 10l5 5 5-5M5 19h14" />
          </svg>
          {exportButtonText(exportActivity)}
          {exportActivity && exportActivity.state !== 'running' && (
            <span className={`header-dot header-dot-${exportActivity.state}`} aria-label={`Last export ${exportActivity.state}`} />
          )}
        </button>
        <button
          type="button"
          className="icon-button header-icon"
          data-testid="theme-toggle"
          data-theme={theme.theme}
          aria-label={`Switch to the ${next} theme`}
          title={`Switch to the ${next} theme`}
          onClick={theme.toggle}
        >
          {theme.theme === 'dark' ? (
            <svg viewBox="0 0 24 24" width="17" height="17" aria-hidden="true">
              <path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z" />
            </svg>
          ) : (
            <svg viewBox="0 0 24 24" width="17" height="17" aria-hidden="true">
              <circle cx="12" cy="12" r="4" />
              <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
            </svg>
          )}
        </button>
        <button
          type="button"
          className="icon-button header-icon"
          data-testid="settings-open"
          aria-label="Settings"
          title="Settings"
          disabled={!onSettings}
          onClick={onSettings}
        >
          <svg viewBox="0 0 24 24" width="17" height="17" aria-hidden="true">
            <circle cx="12" cy="12" r="3" />
            <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
          </svg>
        </button>
      </div>
    </header>
  )
}
