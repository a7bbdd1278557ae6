import type { CommandResult, ConnectionWithStatus } from '@shared/contract'
import { countLabel } from '../../ui/format'
import { ConnectionFinality } from './ConnectionFinality'
import { RelativeTime } from '../../ui/RelativeTime'
import { RemoveControl } from '../../ui/RemoveControl'
import { StateBadge } from './StateBadge'

interface Props {
  row: ConnectionWithStatus
  selected: boolean
  onSelect(id: number): void
  /** Resolves to an error message, or null when the connection was removed. */
  onRemove(id: number): Promise<string | null>
  onUpdateConfirmations(id: number, confirmations: number | null): Promise<CommandResult<'connections.update'>>
}

export function ConnectionRow({ row, selected, onSelect, onRemove, onUpdateConfirmations }: Props) {
  const { status } = row
  const reconnects = status.reconnectCount
  return (
    <li
      className={`connection-row${selected ? ' is-selected' : ''}`}
      data-testid="connection-row"
      data-state={status.state}
      data-connection-id={row.id}
      data-selected={selected ? 'true' : 'false'}
      aria-current={selected ? 'true' : undefined}
      tabIndex={0}
      onClick={() => onSelect(row.id)}
      onKeyDown={(event) => {
        if (event.target === event.currentTarget && (event.key === 'Enter' || event.key === ' ')) {
          event.preventDefault()
          onSelect(row.id)
        }
      }}
    >
      <div className="connection-top">
        <span className="connection-name" data-testid="connection-name" title={row.name}>
          {row.name}
        </span>
        {row.kind === 'demo' && (
          <span className="tag" data-testid="connection-demo-tag" title="Built-in local demo chain">
            demo
          </span>
        )}
        <span className="connection-top-spacer" />
        <StateBadge state={status.state} />
        <RemoveControl label={row.name} onConfirm={() => onRemove(row.id)} />
      </div>
      <ConnectionFinality row={row} onSave={onUpdateConfirmations} />
      <div className="connection-url" data-testid="connection-url" title={row.displayUrl}>
        {row.displayUrl}
      </div>
      {row.displayHttpUrl && (
        <div className="connection-url connection-http-url" data-testid="connection-http-url" title={row.displayHttpUrl}>
          <span className="connection-url-kind">HTTP</span> {row.displayHttpUrl}
        </div>
      )}
      <dl className="connection-stats">
        <div>
          <dt>Head</dt>
          <dd data-testid="connection-head">{status.headNumber === null ? '—' : `#${status.headNumber}`}</dd>
        </div>
        <div>
          <dt>Last message</dt>
          <dd data-testid="connection-last-message">{status.lastMessageAt === null ? 'never' : <RelativeTime at={status.lastMessageAt} />}</dd>
        </div>
        <div>
          <dt>Reconnects</dt>
          <dd data-testid="connection-reconnects">{reconnects}</dd>
        </div>
      </dl>
      <p
        className="connection-upstream"
        data-testid="connection-upstream"
        title="WebSocket connections open to this endpoint, and live upstream subscriptions across them"
      >
        <span data-testid="connection-sockets">{countLabel(status.sockets, 'socket')}</span>
        {' · '}
        <span data-testid="connection-upstream-subscriptions">{countLabel(status.upstreamSubscriptions, 'sub')}</span>
      </p>
      {status.capturing === 'elsewhere' && (
        <p
          className="connection-upstream"
          data-testid="connection-capturing"
          title="Several Tidewatch instances share this store: one captures each connection"
        >
          Captured by another Tidewatch sharing the store; this one follows it
        </p>
      )}
      {status.lastError && (
        <p className="connection-error" data-testid="connection-error" title={status.lastError}>
          {status.lastError}
        </p>
      )}
    </li>
  )
}
