import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import type { StoreStatus } from '@shared/contract'
import { useClient } from '../../hooks/useClient'
import { CopyButton } from '../../ui/CopyButton'
import { composeStoreUrl } from './storeUrl'

type FieldError = { field: 'url' | 'password' | null; message: string }

/**
 * Which store Tidewatch uses: the SQLite file in the data directory, or a PostgreSQL store
 * shared with other instances (issue 13). The desktop app chooses it here, for the next start;
 * headless mode shows it read-only (`tidewatch serve --store` chooses). A password is never
 * shown back: every URL here comes masked, and the form is cleared once saved.
 */
export function StoreChoiceSettings() {
  const client = useClient()
  const [status, setStatus] = useState<StoreStatus | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [url, setUrl] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<FieldError | null>(null)
  const [pending, setPending] = useState<'save' | 'embedded' | 'restart' | null>(null)
  const mounted = useRef(true)
  const urlId = useId()
  const passwordId = useId()
  const errorId = useId()

  useEffect(() => {
    mounted.current = true
    let disposed = false
    void client.call('store.get', {}).then((result) => {
      if (disposed) return
      if (result.ok) setStatus(result.value)
      else setLoadError(result.error.message)
    })
    return () => {
      disposed = true
      mounted.current = false
    }
  }, [client])

  const choose = async (chosen: string | null, action: 'save' | 'embedded'): Promise<void> => {
    setPending(action)
    setError(null)
    const result = await client.call('store.set', { url: chosen })
    if (!mounted.current) return
    setPending(null)
    if (result.ok) {
      setStatus(result.value)
      setUrl('')
      setPassword('')
    } else {
      setError({ field: result.error.field === 'url' ? 'url' : null, message: result.error.message })
    }
  }

  const save = (event: FormEvent): void => {
    event.preventDefault()
    if (pending) return
    const draft = composeStoreUrl(url, password)
    if (!draft.ok) return setError({ field: draft.field, message: draft.message })
    void choose(draft.url, 'save')
  }

  const restart = async (): Promise<void> => {
    setPending('restart')
    setError(null)
    const result = await client.call('app.restart', {})
    if (!mounted.current) return
    // On success the window closes with the app; until then the button says so.
    if (!result.ok) {
      setPending(null)
      setError({ field: null, message: result.error.message })
    }
  }

  if (loadError) {
    return (
      <p className="form-errors" role="alert" data-testid="store-choice-error">
        Could not read which store is in use: {loadError}
      </p>
    )
  }
  if (!status) return <p className="field-hint">Loading…</p>

  const postgres = status.kind === 'postgres'
  const next = status.configured?.url ?? 'the embedded store'
  const fieldError = (field: 'url' | 'password'): string | undefined => (error?.field === field ? errorId : undefined)

  return (
    <div className="store-choice" data-testid="store-choice" data-kind={status.kind} data-editable={status.editable ? 'true' : 'false'}>
      <dl className="local-api-details">
        <dt>In use</dt>
        <dd data-testid="store-kind">{postgres ? 'PostgreSQL, shared with other Tidewatch instances' : 'Embedded SQLite, in the data directory'}</dd>
        <dt>Location</dt>
        <dd>
          <code className="mono" data-testid="store-location" title={status.location}>
            {status.location}
          </code>
          <CopyButton text={status.location} label={postgres ? 'Copy URL' : 'Copy path'} testId="store-location-copy" />
        </dd>
        {status.restartRequired && (
          <>
            <dt>Next start</dt>
            <dd>
              <code className="mono" data-testid="store-next" title={next}>
                {next}
              </code>
            </dd>
          </>
        )}
      </dl>
      {status.lastError && (
        <p className="form-errors" role="alert" data-testid="store-last-error">
          {status.lastError}
        </p>
      )}
      {status.editable && status.restartRequired && (
        <p className="field-hint store-choice-restart" data-testid="store-restart-note">
          The store changes when Tidewatch starts again.{' '}
          <button type="button" className="button button-small" disabled={pending !== null} data-testid="store-restart" onClick={() => void restart()}>
            {pending === 'restart' ? 'Restarting…' : 'Restart now'}
          </button>
        </p>
      )}
      {status.editable ? (
        <form className="store-choice-form" noValidate onSubmit={save} aria-label="Choose the store">
          <label className="field" htmlFor={urlId}>
            <span className="field-label">PostgreSQL URL</span>
            <input
              id={urlId}
              type="text"
              inputMode="url"
              value={url}
              placeholder="postgres://user@host:5432/database"
              autoComplete="off"
              spellCheck={false}
              disabled={pending !== null}
              aria-invalid={error?.field === 'url' ? true : undefined}
              aria-describedby={fieldError('url')}
              data-testid="store-url-input"
              onChange={(event) => {
                setUrl(event.target.value)
                setError(null)
              }}
            />
          </label>
          <label className="field" htmlFor={passwordId}>
            <span className="field-label">
              Password <span className="field-optional">(optional: in the URL, or from ~/.pgpass)</span>
            </span>
            <input
              id={passwordId}
              type="password"
              value={password}
              autoComplete="new-password"
              disabled={pending !== null}
              aria-invalid={error?.field === 'password' ? true : undefined}
              aria-describedby={fieldError('password')}
              data-testid="store-password-input"
              onChange={(event) => {
                setPassword(event.target.value)
                setError(null)
              }}
            />
          </label>
          {error && (
            <p id={errorId} className="field-error" role="alert" data-testid="store-error">
              {error.message}
            </p>
          )}
          <div className="store-choice-actions">
            <button type="submit" className="button button-primary button-small" disabled={pending !== null} data-testid="store-save">
              {pending === 'save' ? 'Saving…' : 'Save'}
            </button>
            {(status.configured !== null || status.lastError !== null) && (
              <button
                type="button"
                className="button button-small"
                disabled={pending !== null}
                data-testid="store-use-embedded"
                onClick={() => void choose(null, 'embedded')}
              >
                Use the embedded store
              </button>
            )}
          </div>
          <p className="field-hint">
            Instances sharing a store seal its endpoint URLs with one key: copy <code className="mono">secret.key</code> from the data directory of the instance
            that captures into this app&apos;s data directory (Settings &gt; About).
          </p>
        </form>
      ) : (
        <p className="field-hint" data-testid="store-read-only">
          Chosen on the command line: <code className="mono">tidewatch serve --store postgres://user@host/database</code>, or without{' '}
          <code className="mono">--store</code> the SQLite file in the data directory. It cannot be changed from here.
        </p>
      )}
    </div>
  )
}
