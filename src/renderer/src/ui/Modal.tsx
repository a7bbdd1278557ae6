import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react'

interface Props {
  /** data-testid of the <dialog>. */
  testId: string
  title: ReactNode
  /** Esc, the close button or a click on the backdrop. */
  onClose(): void
  children: ReactNode
  className?: string
  closeTestId?: string
  /** CSS selector of the element to focus when it opens (default: the first field). */
  initialFocus?: string
  onKeyDown?(event: KeyboardEvent<HTMLDialogElement>): void
}

let nextTitleId = 1

/**
 * A modal <dialog> (focus kept inside, Esc closes, the page behind inert), shared by the
 * settings panel, the export dialog and the shortcuts help. Mount it to open it.
 */
export function Modal({ testId, title, onClose, children, className, closeTestId, initialFocus, onKeyDown }: Props) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useRef(`modal-title-${nextTitleId++}`).current
  const onCloseRef = useRef(onClose)
  useEffect(() => {
    onCloseRef.current = onClose
  })

  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (!dialog.open) {
      try {
        dialog.showModal()
      } catch {
        dialog.setAttribute('open', '')
      }
    }
    const target = dialog.querySelector<HTMLElement>(initialFocus ?? '.modal-body input, .modal-body select, .modal-body textarea, .modal-body button')
    target?.focus()
    return () => {
      if (dialog.open) dialog.close()
      // Back to whatever opened it, if that is still on the page.
      if (opener?.isConnected) opener.focus()
    }
    // Opened once per mount; a later initialFocus change does not move the focus.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- deliberately once per mount, see above
  }, [])

  return (
    <dialog
      ref={ref}
      className={`modal${className ? ` ${className}` : ''}`}
      data-testid={testId}
      aria-labelledby={titleId}
      onKeyDown={(event) => {
        // A modal owns the keyboard: window-wide shortcuts (the live log's Space, "/" and
        // Escape) must not act on the page behind it.
        event.stopPropagation()
        onKeyDown?.(event)
        // Closed here rather than by the browser's own Escape handling, which Chrome may
        // skip for a dialog reopened without a click in between.
        if (event.key === 'Escape' && !event.defaultPrevented) {
          event.preventDefault()
          onCloseRef.current()
        }
      }}
      onClose={() => {
        // Esc closes the <dialog> natively; a close left over from an unmount does not count.
        if (ref.current && !ref.current.open) onCloseRef.current()
      }}
      onMouseDown={(event) => {
        // The dialog element itself is only hit outside the content box: the backdrop.
        if (event.target === event.currentTarget) onCloseRef.current()
      }}
    >
      <div className="modal-content">
        <div className="modal-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button modal-close" aria-label="Close" data-testid={closeTestId} onClick={() => onCloseRef.current()}>
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
              <path d="M6 6l12 12M18 6L6 18" />
            </svg>
          </button>
        </div>
        <div className="modal-body">{children}</div>
      </div>
    </dialog>
  )
}
