import type { ConnectionsState } from '../../hooks/useConnections'
import { AddConnectionForm } from './AddConnectionForm'
import { ConnectionRow } from './ConnectionRow'

interface Props {
  connections: ConnectionsState
  selectedId: number | null
  onSelect(id: number): void
  /** Hide the list's own error, e.g. while a transport banner already explains the cause. */
  hideError?: boolean
}

export function ConnectionsPanel({ connections, selectedId, onSelect, hideError = false }: Props) {
  const { rows, loaded, error } = connections

  const remove = async (id: number): Promise<string | null> => {
    const result = await connections.remove(id)
    return result.ok ? null : result.error.message
  }

  return (
    <section className="panel connections-panel" aria-labelledby="connections-title" data-testid="connections-panel">
      <div className="panel-header">
        <h2 id="connections-title">Connections</h2>
        {loaded && <span className="panel-count">{rows.length}</span>}
      </div>
      {error && !hideError && (
        <p className="panel-error" role="alert" data-testid="connections-error">
          Could not load connections: {error}
        </p>
      )}
      <div className="panel-body">
        {!loaded ? (
          <p className="muted-text">Loading connections…</p>
        ) : rows.length === 0 ? (
          <p className="empty-text" data-testid="connections-empty">
            No endpoints yet. Add a WebSocket endpoint below to start recording new blocks.
          </p>
        ) : (
          <ul className="connection-list" data-testid="connection-list">
            {rows.map((row) => (
              <ConnectionRow
                key={row.id}
                row={row}
                selected={row.id === selectedId}
                onSelect={onSelect}
                onRemove={remove}
                onUpdateConfirmations={connections.update}
              />
            ))}
          </ul>
        )}
      </div>
      <AddConnectionForm onAdd={connections.add} onAdded={onSelect} />
    </section>
  )
}
