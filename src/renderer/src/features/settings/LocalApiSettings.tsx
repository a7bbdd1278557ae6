import { useEffect, useRef, useState, type FormEvent } from 'react'
import type { LocalApiStatus } from '@shared/contract'
import { useClient } from '../../hooks/useClient'
import { CopyButton } from '../../ui/CopyButton'

function parsePort(text: string): number | null {
  const trimmed = text.trim()
  if (!/^\d{1,5}$/.test(trimmed)) return null
  const port = Number(trimmed)
  return port >= 1 && port <= 65535 ? port : null
}

const PORT_MESSAGE = 'Pick a port between 1 and 65535'

/**
 * The local API (/v1/stream and /v1/rpc): opt-in in the desktop app, where the person picks the
 * port; always on in headless mode, where `tidewatch serve` itself serves it.
 */
export function LocalApiSettings() {
  const client = useClient()
  const [status, setStatus] = useState<LocalApiStatus | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [port, setPort] = useState('')
  const [pending, setPending] = useState<boolean | null>(null)
  const [error, setError] = useState<string | null>(null)
  const mounted = useRef(true)

  useEffect(() => {
    mounted.current = true
    let disposed = false
    void client.call('localApi.get', {}).then((result) => {
      if (disposed) return
      if (result.ok) {
        setStatus(result.value)
        setPort(String(result.value.port))
        setLoadError(null)
      } else {
        setLoadError(result.error.message)
      }
    })
    return () => {
      disposed = true
      mounted.current = false
    }
  }, [client])

  const apply = async (enabled: boolean): Promise<void> => {
    const parsed = parsePort(port)
    if (parsed === null && enabled) {
      setError(PORT_MESSAGE)
      return
    }
    setPending(enabled)
    setError(null)
    const result = await client.call('localApi.set', parsed === null ? { enabled } : { enabled, port: parsed })
    if (!mounted.current) return
    setPending(null)
    if (result.ok) {
      setStatus(result.value)
      setPort(String(result.value.port))
    } else {
      setError(result.error.message)
    }
  }

  if (loadError) {
    return (
      <p className="form-errors" role="alert" data-testid="local-api-error">
        Could not read the local API settings: {loadError}
      </p>
    )
  }
  if (!status) return <p className="field-hint">Loading…</p>

  const headless = status.mode === 'headless'
  const enabled = pending ?? status.enabled
  const parsed = parsePort(port)
  const portChanged = parsed !== status.port
  const shownError = error ?? status.error

  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    if (!headless && pending === null) void apply(status.enabled)
  }

  return (
    <div className="local-api" data-testid="local-api" data-enabled={status.enabled ? 'true' : 'false'} data-mode={status.mode}>
      <p className="field-hint">
        Lets scripts and other programs on this computer stream the captured events over WebSocket at <code className="mono">/v1/stream</code>, or use Tidewatch
        as their JSON-RPC node at <code className="mono">/v1/rpc</code> (eth_subscribe shared with Tidewatch&apos;s own subscriptions), with the token kept in
        the token file.
      </p>
      {headless ? (
        <p className="local-api-always-on" data-testid="local-api-always-on">
          <span className="badge badge-connected">
            <span className="badge-dot" aria-hidden="true" />
            always on
          </span>{' '}
          Served by <code className="mono">tidewatch serve</code> alongside this page; it cannot be turned off from here.
        </p>
      ) : (
        <form className="local-api-form" noValidate onSubmit={onSubmit}>
          <label className="switch-field">
            <input
              type="checkbox"
              role="switch"
              data-testid="local-api-toggle"
              checked={enabled}
              disabled={pending !== null}
              onChange={(event) => void apply(event.target.checked)}
            />
            <span>{pending !== null ? (pending ? 'Turning on…' : 'Turning off…') : enabled ? 'On' : 'Off'}</span>
          </label>
          <label className="local-api-port" htmlFor="local-api-port">
            <span className="field-label">Port</span>
            <input
              id="local-api-port"
              className="mono"
              type="text"
              inputMode="numeric"
              data-testid="local-api-port"
              value={port}
              disabled={pending !== null}
              aria-invalid={error === PORT_MESSAGE ? 'true' : undefined}
              onChange={(event) => {
                setPort(event.target.value)
                if (error === PORT_MESSAGE) setError(null)
              }}
            />
          </label>
          {portChanged && (
            <button type="submit" className="button button-small" data-testid="local-api-apply" disabled={pending !== null}>
              {status.enabled ? 'Apply port' : 'Save port'}
            </button>
          )}
        </form>
      )}
      {shownError && (
        <p className="form-errors" role="alert" data-testid="local-api-error">
          {shownError}
        </p>
      )}
      {status.enabled && status.url && (
        <dl className="local-api-details">
          <dt>URL</dt>
          <dd>
            <code className="mono" data-testid="local-api-url">
              {status.url}
            </code>
            <CopyButton text={status.url} testId="local-api-url-copy" />
          </dd>
          <dt>Token file</dt>
          <dd>
            <code className="mono" data-testid="local-api-token-file" title={status.tokenFile}>
              {status.tokenFile}
            </code>
            <CopyButton text={status.tokenFile} label="Copy path" testId="local-api-token-file-copy" />
          </dd>
        </dl>
      )}
      {!status.enabled && !headless && !shownError && (
        <p className="field-hint" data-testid="local-api-off-hint">
          Off: nothing listens. Turn it on to serve it on 127.0.0.1 only.
        </p>
      )}
    </div>
  )
}
