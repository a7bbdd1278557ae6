import { useId, useState, type FormEvent } from 'react'
import { confirmationsSchema, type CommandResult, type ConnectionWithStatus } from '@shared/contract'
import { chainName, confirmationsText } from '../../ui/format'

interface Props {
  row: ConnectionWithStatus
  /** null: back to the chain's default. */
  onSave(id: number, confirmations: number | null): Promise<CommandResult<'connections.update'>>
}

const WHY = 'Used where the node has no “finalized” block tag: a block this deep under the head counts as final.'

/** The connection's chain and its finality depth, with the person's own count as a setting stored with the connection. */
export function ConnectionFinality({ row, onSave }: Props) {
  const chain = row.status.chain
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [saving, setSaving] = useState(false)
  const inputId = useId()

  const save = async (value: number | null): Promise<void> => {
    setSaving(true)
    const result = await onSave(row.id, value)
    setSaving(false)
    if (result.ok) {
      setEditing(false)
      setError(null)
    } else setError(result.error.message)
  }

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    const parsed = confirmationsSchema.safeParse(draft.trim() === '' ? NaN : Number(draft))
    if (!parsed.success) {
      setError(draft.trim() === '' ? 'Enter a number of blocks, or use the chain’s default' : (parsed.error.issues[0]?.message ?? 'Not a number of blocks'))
      return
    }
    void save(parsed.data)
  }

  return (
    <div className="connection-chain" data-testid="connection-chain" data-chain-id={chain?.chainId ?? ''}>
      <span className="connection-chain-name" data-testid="connection-chain-name">
        {chain ? chainName(chain) : 'Chain not known yet'}
      </span>
      {chain && (
        <span className="connection-finality" data-testid="connection-finality" data-source={chain.confirmationsSource} title={WHY}>
          {confirmationsText(chain)}
        </span>
      )}
      {!editing ? (
        <button
          type="button"
          className="link-button"
          data-testid="connection-confirmations-edit"
          disabled={chain?.confirmationsSource === 'command-line'}
          title={
            chain?.confirmationsSource === 'command-line'
              ? 'Set for every connection by tidewatch serve --confirmations'
              : 'Set this connection’s own confirmation count'
          }
          onClick={() => {
            setDraft(row.confirmations === null ? '' : String(row.confirmations))
            setError(null)
            setEditing(true)
          }}
        >
          change
        </button>
      ) : (
        <form className="connection-confirmations-form" onSubmit={submit} noValidate>
          <label htmlFor={inputId} className="visually-hidden">
            Confirmations for {row.name}
          </label>
          <input
            id={inputId}
            type="number"
            min={0}
            max={1_000_000}
            step={1}
            value={draft}
            placeholder={chain && chain.confirmationsSource !== 'connection' ? String(chain.confirmations) : undefined}
            aria-invalid={error ? true : undefined}
            data-testid="connection-confirmations-input"
            autoFocus
            onChange={(event) => {
              setDraft(event.target.value)
              setError(null)
            }}
            onKeyDown={(event) => {
              if (event.key === 'Escape') setEditing(false)
            }}
          />
          <button type="submit" className="button button-small" disabled={saving} data-testid="connection-confirmations-save">
            Save
          </button>
          <button
            type="button"
            className="button button-small"
            disabled={saving || row.confirmations === null}
            data-testid="connection-confirmations-default"
            onClick={() => void save(null)}
          >
            Chain default
          </button>
          <button type="button" className="link-button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      )}
      {error && (
        <p className="field-error" role="alert" data-testid="connection-confirmations-error">
          {error}
        </p>
      )}
    </div>
  )
}
