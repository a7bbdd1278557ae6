import { useCallback, useEffect, useState } from 'react'
import type { ConnectionWithStatus, StorageUse } from '@shared/contract'
import { useClient } from '../../hooks/useClient'

const formatBytes = (bytes: number): string =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`

/** Whole days from 1 to 36,500, or empty for the default. */
function parseDays(text: string): number | null | 'invalid' {
  const trimmed = text.trim()
  if (trimmed === '') return null
  if (!/^\d{1,5}$/.test(trimmed)) return 'invalid'
  const days = Number(trimmed)
  return days >= 1 && days <= 36_500 ? days : 'invalid'
}

/**
 * Disk use per connection, how long each keeps heads (default 30 days) and captured events
 * (default forever), and Compact, which gives the space pruning freed back to the disk.
 */
export function StorageSettings() {
  const client = useClient()
  const [usage, setUsage] = useState<StorageUse[] | null>(null)
  const [names, setNames] = useState<Map<number, string>>(new Map())
  const [error, setError] = useState<string | null>(null)
  const [compacting, setCompacting] = useState(false)
  const [compacted, setCompacted] = useState<string | null>(null)

  const load = useCallback(async () => {
    const [use, connections] = await Promise.all([client.call('storage.usage', {}), client.call('connections.list', {})])
    if (use.ok) setUsage(use.value)
    else setError(use.error.message)
    if (connections.ok) setNames(new Map(connections.value.map((c: ConnectionWithStatus) => [c.id, c.name])))
  }, [client])

  useEffect(() => {
    void load()
  }, [load])

  const save = async (connectionId: number, heads: string, events: string): Promise<void> => {
    const headsDays = parseDays(heads)
    const eventsDays = parseDays(events)
    if (headsDays === 'invalid' || eventsDays === 'invalid') {
      setError('Days are whole numbers from 1 to 36,500; leave a field empty for its default')
      return
    }
    const result = await client.call('connections.setRetention', { id: connectionId, headsRetentionDays: headsDays, eventsRetentionDays: eventsDays })
    if (!result.ok) return setError(result.error.message)
    setError(null)
    setUsage((current) => current?.map((u) => (u.connectionId === connectionId ? result.value : u)) ?? null)
  }

  const compact = async (): Promise<void> => {
    setCompacting(true)
    const result = await client.call('storage.compact', {})
    setCompacting(false)
    if (!result.ok) return setError(result.error.message)
    setCompacted(`${formatBytes(result.value.bytesBefore)} → ${formatBytes(result.value.bytesAfter)}`)
    await load()
  }

  if (!usage) return <p className="field-hint">{error ?? 'Loading…'}</p>
  return (
    <div className="storage-settings" data-testid="storage-settings">
      <p className="field-hint">
        Old heads and events are deleted in small batches in the background. Leave a field empty for its default: heads 30 days, events forever.
      </p>
      {usage.map((use) => (
        <RetentionRow key={use.connectionId} use={use} name={names.get(use.connectionId) ?? `Connection ${use.connectionId}`} onSave={save} />
      ))}
      <p className="field-hint">
        <button type="button" className="button button-small" data-testid="storage-compact" disabled={compacting} onClick={() => void compact()}>
          {compacting ? 'Compacting…' : 'Compact'}
        </button>{' '}
        Gives space freed by deletions back to the disk; capture waits while it runs.
        {compacted && <span data-testid="storage-compacted"> {compacted}</span>}
      </p>
      {error && (
        <p className="form-errors" role="alert" data-testid="storage-error">
          {error}
        </p>
      )}
    </div>
  )
}

function RetentionRow({ use, name, onSave }: { use: StorageUse; name: string; onSave(connectionId: number, heads: string, events: string): Promise<void> }) {
  const [heads, setHeads] = useState(use.headsRetentionDays === 30 ? '' : String(use.headsRetentionDays))
  const [events, setEvents] = useState(use.eventsRetentionDays === null ? '' : String(use.eventsRetentionDays))
  return (
    <form
      className="storage-row"
      data-testid={`storage-row-${use.connectionId}`}
      noValidate
      onSubmit={(event) => {
        event.preventDefault()
        void onSave(use.connectionId, heads, events)
      }}
    >
      <span className="field-label">
        {name}: <span data-testid={`storage-bytes-${use.connectionId}`}>{formatBytes(use.bytes)}</span>
      </span>
      <label>
        Heads, days <input className="mono" inputMode="numeric" placeholder="30" value={heads} onChange={(e) => setHeads(e.target.value)} size={5} />
      </label>
      <label>
        Events, days <input className="mono" inputMode="numeric" placeholder="forever" value={events} onChange={(e) => setEvents(e.target.value)} size={7} />
      </label>
      <button type="submit" className="button button-small">
        Save
      </button>
    </form>
  )
}
