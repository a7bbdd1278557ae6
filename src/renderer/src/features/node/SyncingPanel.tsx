import type { ConnectionWithStatus } from '@shared/contract'
import { formatInteger, formatRelative } from '../../ui/format'
import { useConnections } from '../../hooks/useConnections'
import { useNow } from '../../hooks/useNow'
import '../../panels.css'

/** A head older than this against the wall clock is shown as a warning. */
const HEAD_LAG_WARN_SECONDS = 60

/** 12 -> "12 s", 150 -> "2 min 30 s", 7300 -> "2 h 1 min". */
function formatLag(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) {
    const rest = seconds % 60
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`
  }
  const hours = Math.floor(minutes / 60)
  if (hours < 48) {
    const rest = minutes % 60
    return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`
  }
  return `${Math.floor(hours / 24)} d`
}

/** Share of the way from the starting (or genesis) block to the highest, 0–100; null when unknown. */
function syncProgress(syncing: NonNullable<ConnectionWithStatus['status']['syncing']>): number | null {
  const { startingBlock, currentBlock, highestBlock } = syncing
  if (currentBlock === null || highestBlock === null || highestBlock <= 0) return null
  const start = startingBlock !== null && startingBlock < highestBlock ? startingBlock : 0
  const span = highestBlock - start
  if (span <= 0) return 100
  return Math.max(0, Math.min(100, ((currentBlock - start) / span) * 100))
}

function HeadLag({ headTimestamp, now }: { headTimestamp: number | null; now: number }) {
  if (headTimestamp === null) {
    return (
      <span className="syncing-lag is-unknown" data-testid="syncing-head-lag" data-lag-seconds="">
        no head yet
      </span>
    )
  }
  const seconds = Math.max(0, Math.floor(now / 1000 - headTimestamp))
  const warn = seconds > HEAD_LAG_WARN_SECONDS
  return (
    <span
      className={`syncing-lag${warn ? ' is-warn' : ''}`}
      data-testid="syncing-head-lag"
      data-lag-seconds={seconds}
      data-warn={warn ? 'true' : 'false'}
      title={`Newest head’s timestamp: ${new Date(headTimestamp * 1000).toLocaleString(undefined, { hour12: false })}`}
    >
      head {formatLag(seconds)} behind
    </span>
  )
}

function SyncingRow({ connection, now }: { connection: ConnectionWithStatus; now: number }) {
  const { status } = connection
  const syncing = status.syncing
  const state = syncing === null ? 'unknown' : syncing.syncing ? 'yes' : 'no'
  const progress = syncing?.syncing ? syncProgress(syncing) : null
  const left =
    syncing?.syncing && syncing.currentBlock !== null && syncing.highestBlock !== null ? Math.max(0, syncing.highestBlock - syncing.currentBlock) : null

  return (
    <li className="syncing-row" data-testid="syncing-row" data-connection-id={connection.id} data-syncing={state}>
      <div className="syncing-row-top">
        <span className="syncing-name" title={connection.displayUrl}>
          {connection.name}
        </span>
        <span className="syncing-head">{status.headNumber === null ? '' : `#${formatInteger(status.headNumber)}`}</span>
      </div>
      <dl className="syncing-facts">
        <div>
          <dt>Syncing</dt>
          <dd data-testid="syncing-state" data-state={state} className={`syncing-state syncing-state-${state}`}>
            {state}
          </dd>
        </div>
        <div>
          <dt>Head</dt>
          <dd>
            <HeadLag headTimestamp={status.headTimestamp} now={now} />
          </dd>
        </div>
        {syncing && (
          <div>
            <dt>Checked</dt>
            <dd className="subtle">{formatRelative(syncing.checkedAt, now)}</dd>
          </div>
        )}
      </dl>
      {syncing?.syncing && (
        <div className="syncing-progress-block">
          <div className="syncing-blocks" data-testid="syncing-blocks">
            block {syncing.currentBlock === null ? '?' : formatInteger(syncing.currentBlock)} of{' '}
            {syncing.highestBlock === null ? '?' : formatInteger(syncing.highestBlock)}
            {left !== null && <span className="subtle"> · {formatInteger(left)} to go</span>}
          </div>
          <div
            className="syncing-progress"
            role="progressbar"
            aria-label={`${connection.name} sync progress`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={progress === null ? undefined : Math.floor(progress * 10) / 10}
            data-testid="syncing-progress"
            data-progress={progress === null ? '' : progress.toFixed(1)}
          >
            <div className="syncing-progress-fill" style={{ width: `${progress ?? 0}%` }} />
            <span className="syncing-progress-text">{progress === null ? 'progress unknown' : `${progress.toFixed(1)}%`}</span>
          </div>
        </div>
      )}
    </li>
  )
}

/** Whether each node is syncing (eth_syncing) and how far its newest head lags the wall clock. */
export function SyncingPanel({ connectionId }: { connectionId: number | null }) {
  const connections = useConnections()
  const now = useNow()
  const rows = connectionId === null ? connections.rows : connections.rows.filter((row) => row.id === connectionId)

  return (
    <section className="panel syncing-panel" data-testid="syncing-panel" aria-labelledby="syncing-panel-title">
      <div className="panel-header">
        <h2 id="syncing-panel-title">Node sync</h2>
        <span className="panel-hint">{connectionId === null ? 'all connections' : ''}</span>
      </div>
      {connections.error && (
        <p className="panel-error" role="alert">
          Could not load connections: {connections.error}
        </p>
      )}
      {!connections.loaded ? (
        <p className="muted-text">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="empty-text" data-testid="syncing-empty">
          {connectionId === null ? 'No connections yet.' : 'This connection is gone.'}
        </p>
      ) : (
        <ul className="syncing-rows">
          {rows.map((row) => (
            <SyncingRow key={row.id} connection={row} now={now} />
          ))}
        </ul>
      )}
    </section>
  )
}
