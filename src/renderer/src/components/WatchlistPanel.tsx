import { useEffect, useState } from 'react'
import type { WatchlistEntry } from '@shared/contract'
import { useClient } from '../hooks/useClient'
import { useWatchlist } from '../hooks/useWatchlist'
import { WatchlistActivity } from './WatchlistActivity'
import { WatchlistAddForm } from './WatchlistAddForm'
import { WatchlistRow } from './WatchlistRow'
import '../panels.css'

/**
 * The address watchlist: labelled, coloured addresses (shown wherever an address appears),
 * per-address notifications, and each one's recent captured activity. Needs a
 * WatchlistProvider above it (the entries come from useWatchlist).
 */
export function WatchlistPanel() {
  const client = useClient()
  const { entries, reload } = useWatchlist()
  // undefined: the person has not picked one yet, so the first address shows its activity at once.
  const [selected, setSelected] = useState<string | null | undefined>(undefined)
  const [error, setError] = useState<string | null>(null)
  const [removed, setRemoved] = useState<WatchlistEntry | null>(null)
  const selectedEntry = selected === undefined ? (entries[0] ?? null) : (entries.find((entry) => entry.address.toLowerCase() === selected) ?? null)

  // A removed or relabelled-away entry is simply no longer selected.
  useEffect(() => {
    if (typeof selected === 'string' && !entries.some((entry) => entry.address.toLowerCase() === selected)) setSelected(null)
  }, [entries, selected])

  const save = async (entry: WatchlistEntry, change: { label: string; color: string; notify: boolean }): Promise<string | null> => {
    const result = await client.call('watchlist.upsert', { address: entry.address.toLowerCase(), ...change })
    reload()
    return result.ok ? null : result.error.message
  }

  const remove = async (entry: WatchlistEntry): Promise<void> => {
    setError(null)
    const result = await client.call('watchlist.remove', { address: entry.address.toLowerCase() })
    if (!result.ok) {
      setError(`Could not remove ${entry.label}: ${result.error.message}`)
      return
    }
    setRemoved(entry)
    reload()
  }

  const undo = async (): Promise<void> => {
    if (!removed) return
    const entry = removed
    setRemoved(null)
    const result = await client.call('watchlist.upsert', {
      address: entry.address.toLowerCase(),
      label: entry.label,
      color: /^#[0-9a-fA-F]{6}$/.test(entry.color) ? entry.color : '#3b82f6',
      notify: entry.notify,
    })
    if (!result.ok) setError(`Could not restore ${entry.label}: ${result.error.message}`)
    reload()
  }

  return (
    <section className="panel watchlist-panel" data-testid="watchlist-panel" aria-labelledby="watchlist-title">
      <div className="panel-header">
        <h2 id="watchlist-title">Watchlist</h2>
        <span className="panel-count" data-testid="watchlist-count">
          {entries.length}
        </span>
        <span className="panel-hint">labels show wherever these addresses appear</span>
      </div>
      {error && (
        <p className="panel-error" role="alert" data-testid="watchlist-panel-error">
          {error}
        </p>
      )}
      {removed && (
        <p className="watchlist-undo" role="status">
          Removed “{removed.label}”.{' '}
          <button type="button" className="button button-small" data-testid="watchlist-undo" onClick={() => void undo()}>
            Undo
          </button>
        </p>
      )}
      <div className="watchlist-layout">
        <div className="watchlist-side">
          {entries.length === 0 ? (
            <p className="empty-text" data-testid="watchlist-empty">
              No watched addresses yet. Add one below to label it everywhere and follow its transfers.
            </p>
          ) : (
            <ul className="watchlist-rows">
              {entries.map((entry) => (
                <WatchlistRow
                  key={entry.address}
                  entry={entry}
                  selected={entry === selectedEntry}
                  onSelect={() => {
                    const address = entry.address.toLowerCase()
                    setSelected((previous) => (previous === address ? null : address))
                  }}
                  onSave={(change) => save(entry, change)}
                  onRemove={() => void remove(entry)}
                />
              ))}
            </ul>
          )}
          <WatchlistAddForm
            entries={entries}
            onSaved={() => {
              setRemoved(null)
              reload()
            }}
          />
        </div>
        <div className="watchlist-main">
          {selectedEntry ? (
            <WatchlistActivity key={selectedEntry.address} entry={selectedEntry} />
          ) : (
            entries.length > 0 && (
              <p className="field-hint watchlist-select-hint" data-testid="watchlist-select-hint">
                Select an address to see its recent token transfers and transactions.
              </p>
            )
          )}
        </div>
      </div>
    </section>
  )
}
