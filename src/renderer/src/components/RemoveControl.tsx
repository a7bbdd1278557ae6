import { useEffect, useRef, useState } from 'react'

/** A remove button that asks "Remove? Yes / No" in place before acting. */
export function RemoveControl({ label, onConfirm }: { label: string; onConfirm: () => Promise<string | null> }) {
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
            data-testid="connection-remove-confirm"
            disabled={busy}
            onClick={() => void confirm()}
          >
            {busy ? 'Removing…' : 'Yes'}
          </button>
          <button
            type="button"
            className="button button-small"
            data-testid="connection-remove-cancel"
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
          data-testid="connection-remove"
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
        <span className="remove-error" role="alert" data-testid="connection-remove-error">
          {error}
        </span>
      )}
    </div>
  )
}
