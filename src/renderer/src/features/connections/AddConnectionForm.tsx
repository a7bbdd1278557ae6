import { useId, useState, type FormEvent } from 'react'
import { endpointUrlSchema, httpUrlSchema, type CommandResult } from '@shared/contract'

interface Props {
  onAdd(name: string, url: string, httpUrl?: string): Promise<CommandResult<'connections.add'>>
  onAdded(id: number): void
}

/** Name + URL (+ optional HTTP URL) form; both URLs are checked with the contract's own schemas as they are typed. */
export function AddConnectionForm({ onAdd, onAdded }: Props) {
  const [name, setName] = useState('')
  const [url, setUrl] = useState('')
  const [httpUrl, setHttpUrl] = useState('')
  const [touched, setTouched] = useState(false)
  const [serverError, setServerError] = useState<string | null>(null)
  /** A server error about the HTTP URL (field "httpUrl") is shown under that input. */
  const [serverHttpError, setServerHttpError] = useState<string | null>(null)
  const [submitting, setSubmitting] = useState(false)
  const nameId = useId()
  const urlId = useId()
  const errorId = useId()
  const httpId = useId()
  const httpErrorId = useId()

  const validation = endpointUrlSchema.safeParse(url)
  const clientError = validation.success || (!touched && url === '') ? null : (validation.error.issues[0]?.message ?? 'Invalid URL')
  const message = serverError ?? clientError

  // Optional: empty means none; anything typed must be an http(s) URL.
  const httpValidation = httpUrl.trim() === '' ? null : httpUrlSchema.safeParse(httpUrl)
  const httpClientError = httpValidation === null || httpValidation.success ? null : (httpValidation.error.issues[0]?.message ?? 'Invalid URL')
  const httpMessage = serverHttpError ?? httpClientError
  const disabled = !validation.success || httpClientError !== null || submitting

  const clearServerErrors = (): void => {
    setServerError(null)
    setServerHttpError(null)
  }

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault()
    if (disabled) return
    setSubmitting(true)
    clearServerErrors()
    const result = await onAdd(name, url, httpUrl)
    setSubmitting(false)
    if (result.ok) {
      setName('')
      setUrl('')
      setHttpUrl('')
      setTouched(false)
      onAdded(result.value.id)
    } else if (result.error.field === 'httpUrl') {
      setServerHttpError(result.error.message)
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
            clearServerErrors()
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
            clearServerErrors()
          }}
        />
      </label>
      {message && (
        <p id={errorId} className="field-error" role="alert" data-testid="connection-url-error">
          {message}
        </p>
      )}
      <label className="field" htmlFor={httpId}>
        <span className="field-label">
          HTTP URL <span className="field-optional">(for plain requests)</span>
        </span>
        <input
          id={httpId}
          type="text"
          inputMode="url"
          value={httpUrl}
          placeholder="Optional: https://… or http://127.0.0.1:8545"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={httpMessage ? true : undefined}
          aria-describedby={httpMessage ? httpErrorId : undefined}
          data-testid="connection-http-input"
          onChange={(event) => {
            setHttpUrl(event.target.value)
            clearServerErrors()
          }}
        />
      </label>
      {httpMessage && (
        <p id={httpErrorId} className="field-error" role="alert" data-testid="connection-http-error">
          {httpMessage}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={disabled} data-testid="connection-add-button">
        {submitting ? 'Adding…' : 'Add endpoint'}
      </button>
    </form>
  )
}
