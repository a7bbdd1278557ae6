import { useId, useState } from 'react'
import { getAddress } from 'viem'
import type { WatchlistEntry } from '@shared/contract'
import { CopyButton } from '../../ui/CopyButton'
import '../../panels.css'

interface Props {
  entry: WatchlistEntry
  selected: boolean
  onSelect(): void
  /** Resolves to an error message, or null when saved. */
  onSave(change: { label: string; color: string; notify: boolean }): Promise<string | null>
  onRemove(): void
}

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/

/** What watchlist.upsert accepts: a stored colour in another CSS form falls back to the default blue. */
function safeColor(color: string): string {
  return HEX_COLOR.test(color) ? color : '#3b82f6'
}

function checksummed(address: string): string {
  try {
    return getAddress(address)
  } catch {
    return address
  }
}

/** One watched address: colour, label, the full address to copy, notify toggle, edit and remove. */
export function WatchlistRow({ entry, selected, onSelect, onSave, onRemove }: Props) {
  const labelId = useId()
  const [editing, setEditing] = useState(false)
  const [label, setLabel] = useState(entry.label)
  const [color, setColor] = useState(safeColor(entry.color))
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const address = checksummed(entry.address)

  const save = async (change: { label: string; color: string; notify: boolean }): Promise<boolean> => {
    setBusy(true)
    setError(null)
    const failure = await onSave(change)
    setBusy(false)
    setError(failure)
    return failure === null
  }

  const startEditing = (): void => {
    setLabel(entry.label)
    setColor(safeColor(entry.color))
    setError(null)
    setEditing(true)
  }

  const labelIssue = label.trim() === '' ? 'Give the address a label' : label.trim().length > 60 ? 'Keep the label under 60 characters' : null

  return (
    <li
      className={`watchlist-row${selected ? ' is-selected' : ''}`}
      data-testid="watchlist-row"
      data-address={entry.address.toLowerCase()}
      aria-selected={selected}
      tabIndex={0}
      title={selected ? undefined : 'Show recent activity'}
      onClick={onSelect}
      onKeyDown={(event) => {
        if (event.target !== event.currentTarget) return
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault()
          onSelect()
        }
      }}
    >
      <div className="watchlist-row-top">
        <span className="address-dot watchlist-dot" style={{ backgroundColor: entry.color }} aria-hidden="true" />
        <span className="watchlist-label" data-testid="watchlist-label">
          {entry.label}
        </span>
        <span className="connection-top-spacer" />
        <div className="watchlist-actions" onClick={(event) => event.stopPropagation()} onKeyDown={(event) => event.stopPropagation()}>
          <label className="watchlist-notify" title="Desktop notification when this address shows up in captured events">
            <input
              type="checkbox"
              checked={entry.notify}
              disabled={busy}
              data-testid="watchlist-notify"
              onChange={(event) => void save({ label: entry.label, color: safeColor(entry.color), notify: event.target.checked })}
            />
            notify
          </label>
          <button
            type="button"
            className="button button-small"
            data-testid="watchlist-edit"
            aria-expanded={editing}
            onClick={() => (editing ? setEditing(false) : startEditing())}
          >
            {editing ? 'Close' : 'Edit'}
          </button>
          <button
            type="button"
            className="icon-button"
            data-testid="watchlist-remove"
            aria-label={`Remove ${entry.label} from the watchlist`}
            title={`Remove ${entry.label} from the watchlist`}
            onClick={onRemove}
          >
            <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
              <path d="M4 4l8 8M12 4l-8 8" />
            </svg>
          </button>
        </div>
      </div>
      <div className="watchlist-address" onClick={(event) => event.stopPropagation()}>
        <span className="mono" data-testid="watchlist-address" title={address}>
          {address}
        </span>
        <CopyButton text={address} testId="watchlist-copy" />
      </div>
      {editing && (
        <form
          className="watchlist-edit"
          data-testid="watchlist-edit-form"
          noValidate
          onClick={(event) => event.stopPropagation()}
          onKeyDown={(event) => {
            event.stopPropagation()
            if (event.key === 'Escape') setEditing(false)
          }}
          onSubmit={(event) => {
            event.preventDefault()
            if (labelIssue) return
            void save({ label: label.trim(), color, notify: entry.notify }).then((saved) => {
              if (saved) setEditing(false)
            })
          }}
        >
          <label className="visually-hidden" htmlFor={labelId}>
            Label
          </label>
          <input
            id={labelId}
            type="text"
            value={label}
            maxLength={80}
            autoComplete="off"
            aria-invalid={labelIssue ? true : undefined}
            data-testid="watchlist-edit-label"
            onChange={(event) => setLabel(event.target.value)}
          />
          <input type="color" value={color} aria-label="Colour" data-testid="watchlist-edit-color" onChange={(event) => setColor(event.target.value)} />
          <button type="submit" className="button button-small button-primary" disabled={busy || labelIssue !== null} data-testid="watchlist-edit-save">
            Save
          </button>
          <button type="button" className="button button-small" data-testid="watchlist-edit-cancel" onClick={() => setEditing(false)}>
            Cancel
          </button>
          {labelIssue && <span className="field-error watchlist-edit-error">{labelIssue}</span>}
        </form>
      )}
      {error && (
        <p className="field-error" role="alert" data-testid="watchlist-row-error">
          {error}
        </p>
      )}
    </li>
  )
}
