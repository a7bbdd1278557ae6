import { useId, useState, type FormEvent } from 'react'
import { endpointUrlSchema, type CommandResult } from '@shared/contract'

interface Props {
  onAdd(name: string, url: string): Promise<CommandResult<'connections.add'>>
  onAdded(id: number): void
}

/** Name + URL form; the URL is checked with the contract's own schema as it is typed. */
export function AddConnectionForm({ onAdd, onAdded }: Props) {
  const [name, setName] = useState('')
  const [url, setUrl] = useState('')
  const [touched, setTouched] = useState(false)
  const [serverError, setServerError] = useState<string | null>(null)
  const [submitting, setSubmitting] = useState(false)
  const nameId = useId()
  const urlId = useId()
  const errorId = useId()

  const validation = endpointUrlSchema.safeParse(url)
  const clientError =
    validation.success || (!touched && url === '') ? null : (validation.error.issues[0]?.message ?? 'Invalid URL')
  const message = serverError ?? clientError
  const disabled = !validation.success || submitting

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault()
    if (disabled) return
    setSubmitting(true)
    setServerError(null)
    const result = await onAdd(name, url)
    setSubmitting(false)
    if (result.ok) {
      setName('')
      setUrl('')
      setTouched(false)
      onAdded(result.value.id)
    } else {
      setServerError(result.error.message)
    }
  }

  return (
    <form className="add-form" onSubmit={(event) => void submit(event)} noValidate>
      <h3 className="add-form-title">Add endpoint</h3>
      <label className="field" htmlFor={nameId}>
        <span className="field-label">
          Name <span className="field-optional">(optional)</span>
        </span>
        <input
          id={nameId}
          type="text"
          value={name}
          maxLength={100}
          placeholder="Mainnet via Alchemy"
          autoComplete="off"
          spellCheck={false}
          data-testid="connection-name-input"
          onChange={(event) => {
            setName(event.target.value)
            setServerError(null)
          }}
        />
      </label>
      <label className="field" htmlFor={urlId}>
        <span className="field-label">WebSocket URL</span>
        <input
          id={urlId}
          type="text"
          inputMode="url"
          value={url}
          placeholder="wss://… or ws://127.0.0.1:8545"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={message ? true : undefined}
          aria-describedby={message ? errorId : undefined}
          data-testid="connection-url-input"
          onChange={(event) => {
            setUrl(event.target.value)
            setTouched(true)
            setServerError(null)
          }}
        />
      </label>
      {message && (
        <p id={errorId} className="field-error" role="alert" data-testid="connection-url-error">
          {message}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={disabled} data-testid="connection-add-button">
        {submitting ? 'Adding…' : 'Add endpoint'}
      </button>
    </form>
  )
}
