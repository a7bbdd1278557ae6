import { useEffect, useRef, useState } from 'react'

interface Props {
  label: string
  /** Resolves to an error message, or null when the thing was removed. */
  onConfirm: () => Promise<string | null>
  /** Prefix of the test ids: `${prefix}-remove`, `${prefix}-remove-confirm`, ... */
  testIdPrefix?: string
}

/** A remove button that asks "Remove? Yes / No" in place before acting. */
export function RemoveControl({ label, onConfirm, testIdPrefix = 'connection' }: Props) {
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const yesRef = useRef<HTMLButtonElement>(null)
  const mounted = useRef(true)

  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
    }
  }, [])

  useEffect(() => {
    if (confirming) yesRef.current?.focus()
  }, [confirming])

  const confirm = async (): Promise<void> => {
    setBusy(true)
    setError(null)
    const failure = await onConfirm()
    if (!mounted.current) return
    setBusy(false)
    setConfirming(false)
    setError(failure)
  }

  return (
    <div
      className="remove-control"
      onClick={(event) => event.stopPropagation()}
      onKeyDown={(event) => {
        event.stopPropagation()
        if (event.key === 'Escape') setConfirming(false)
      }}
    >
      {confirming ? (
        <span className="remove-confirm" role="group" aria-label={`Confirm removing ${label}`}>
          <span className="remove-question">Remove?</span>
          <button
            type="button"
            ref={yesRef}
            className="button button-danger button-small"
            data-testid={`${testIdPrefix}-remove-confirm`}
            disabled={busy}
            onClick={() => void confirm()}
          >
            {busy ? 'Removing…' : 'Yes'}
          </button>
          <button
            type="button"
            className="button button-small"
            data-testid={`${testIdPrefix}-remove-cancel`}
            disabled={busy}
            onClick={() => setConfirming(false)}
          >
            No
          </button>
        </span>
      ) : (
        <button
          type="button"
          className="icon-button"
          data-testid={`${testIdPrefix}-remove`}
          aria-label={`Remove ${label}`}
          title={`Remove ${label}`}
          onClick={() => setConfirming(true)}
        >
          <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <path d="M4 4l8 8M12 4l-8 8" />
          </svg>
        </button>
      )}
      {error && (
        <span className="remove-error" role="alert" data-testid={`${testIdPrefix}-remove-error`}>
          {error}
        </span>
      )}
    </div>
  )
}
