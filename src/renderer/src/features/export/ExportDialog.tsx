import { useEffect, useRef, useState, type FormEvent } from 'react'
import type { ExportProgress, Subscription } from '@shared/contract'
import { countLabel, formatInteger } from '../../ui/format'
import { useClient } from '../../hooks/useClient'
import { takeToken } from '../../transport/websocket-bridge'
import { CopyButton } from '../../ui/CopyButton'
import { Modal } from '../../ui/Modal'
import { summarizeParams } from '../subscriptions/subscriptionSummary'
import {
  EMPTY_EXPORT_DRAFT,
  EVENT_KINDS,
  EXPORT_FORMATS,
  EXPORT_FORMAT_HINTS,
  EXPORT_FORMAT_LABELS,
  EXPORT_KIND_LABELS,
  baseName,
  buildExportRequest,
  describeExportRequest,
  downloadHref,
  exportPercent,
  type ExportDraft,
  type ExportDraftErrors,
  type ExportField,
} from './exportDraft'

/** The running or last export, for the header button. */
export interface ExportActivity {
  state: ExportProgress['state']
  percent: number | null
}

interface Props {
  open: boolean
  connectionId: number | null
  connectionName: string | null
  onClose(): void
  onActivity?(activity: ExportActivity | null): void
}

type Run = { phase: 'idle' } | { phase: 'starting' } | { phase: 'active'; exportId: string; progress: ExportProgress; cancelling: boolean; what: string }

interface SubscriptionChoices {
  connectionId: number | null
  rows: Subscription[]
  loaded: boolean
  error: string | null
}

const FIELD_TEST_IDS: Record<ExportField, string> = {
  fromBlock: 'export-from-block',
  toBlock: 'export-to-block',
  fromTime: 'export-from-time',
  toTime: 'export-to-time',
}

const TERMINAL = new Set<ExportProgress['state']>(['done', 'cancelled', 'failed'])

function startingProgress(exportId: string): ExportProgress {
  return { exportId, state: 'running', rows: 0, totalRows: 0, file: null, downloadUrl: null, error: null }
}

/** A finished export stays finished even if a late 'running' update arrives after it. */
function mergeProgress(previous: ExportProgress, next: ExportProgress): ExportProgress {
  if (TERMINAL.has(previous.state) && next.state === 'running') return previous
  return next
}

/** Starts the browser download the way a click on a link would. */
function triggerDownload(href: string, fileName: string | null): void {
  const link = document.createElement('a')
  link.href = href
  link.download = fileName ?? ''
  link.rel = 'noopener'
  link.style.display = 'none'
  document.body.append(link)
  link.click()
  link.remove()
}

/**
 * The export dialog and the export it runs. It stays mounted while closed, so an export
 * keeps going (and its browser download still starts) after the dialog is dismissed.
 */
export function ExportDialog({ open, connectionId, connectionName, onClose, onActivity }: Props) {
  const client = useClient()
  const [draft, setDraft] = useState<ExportDraft>(EMPTY_EXPORT_DRAFT)
  const [errors, setErrors] = useState<ExportDraftErrors>({})
  const [startError, setStartError] = useState<string | null>(null)
  const [run, setRun] = useState<Run>({ phase: 'idle' })
  const [choices, setChoices] = useState<SubscriptionChoices>({ connectionId: null, rows: [], loaded: false, error: null })

  const currentId = useRef<string | null>(null)
  /** Progress that arrived before export.start answered (a small export can finish first). */
  const early = useRef(new Map<string, ExportProgress>())
  const starting = useRef(false)
  const downloaded = useRef(new Set<string>())
  const mounted = useRef(true)
  const formRef = useRef<HTMLFormElement>(null)

  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
    }
  }, [])

  useEffect(
    () =>
      client.on('export.progress', (progress) => {
        if (progress.exportId === currentId.current) {
          setRun((previous) =>
            previous.phase === 'active' && previous.exportId === progress.exportId
              ? { ...previous, progress: mergeProgress(previous.progress, progress) }
              : previous,
          )
        } else if (starting.current) {
          early.current.set(progress.exportId, progress)
        }
      }),
    [client],
  )

  // The subscriptions to choose from, fresh each time the dialog opens.
  useEffect(() => {
    if (!open || connectionId === null) return
    let disposed = false
    setChoices((previous) => (previous.connectionId === connectionId ? previous : { connectionId, rows: [], loaded: false, error: null }))
    void client.call('subscriptions.list', { connectionId }).then((result) => {
      if (disposed) return
      setChoices(
        result.ok
          ? { connectionId, rows: result.value.filter((row) => row.connectionId === connectionId), loaded: true, error: null }
          : { connectionId, rows: [], loaded: true, error: result.error.message },
      )
    })
    return () => {
      disposed = true
    }
  }, [open, connectionId, client])

  const progress = run.phase === 'active' ? run.progress : null
  const isBrowser = client.transport === 'websocket'
  const href = progress?.downloadUrl ? downloadHref(progress.downloadUrl, isBrowser ? takeToken() : null, window.location.href) : null

  // Browser mode: the finished file downloads by itself, once.
  useEffect(() => {
    if (!progress || progress.state !== 'done' || !href || downloaded.current.has(progress.exportId)) return
    downloaded.current.add(progress.exportId)
    triggerDownload(href, progress.file ? baseName(progress.file) : null)
  }, [progress, href])

  const activityState = progress?.state ?? null
  const activityPercent = progress ? exportPercent(progress.rows, progress.totalRows) : null
  useEffect(() => {
    onActivity?.(activityState === null ? null : { state: activityState, percent: activityPercent })
  }, [activityState, activityPercent, onActivity])

  const rows = choices.connectionId === connectionId ? choices.rows : []
  const rowIds = new Set(rows.map((row) => row.id))
  const ticked = draft.subscriptionIds.filter((id) => rowIds.has(id))

  const edit = <K extends keyof ExportDraft>(key: K, value: ExportDraft[K]): void => {
    setDraft((previous) => ({ ...previous, [key]: value }))
    if (key in errors) setErrors((previous) => ({ ...previous, [key]: undefined }))
  }

  const toggleSubscription = (id: number, checked: boolean): void => {
    const others = ticked.filter((existing) => existing !== id)
    edit('subscriptionIds', checked ? [...others, id] : others)
  }

  const close = (): void => {
    // A finished export is cleared when the dialog closes; a running one keeps going.
    if (run.phase === 'active' && TERMINAL.has(run.progress.state)) {
      currentId.current = null
      setRun({ phase: 'idle' })
    }
    setStartError(null)
    onClose()
  }

  const start = async (event?: FormEvent): Promise<void> => {
    event?.preventDefault()
    if (run.phase === 'starting' || (run.phase === 'active' && run.progress.state === 'running')) return
    const built = buildExportRequest({ ...draft, subscriptionIds: ticked }, connectionId)
    if (!built.ok) {
      setErrors(built.errors)
      const first = (Object.keys(built.errors) as ExportField[])[0]
      if (first) formRef.current?.querySelector<HTMLElement>(`[data-testid="${FIELD_TEST_IDS[first]}"]`)?.focus()
      return
    }
    setErrors({})
    setStartError(null)
    setRun({ phase: 'starting' })
    currentId.current = null
    early.current.clear()
    starting.current = true
    const result = await client.call('export.start', built.request)
    starting.current = false
    if (!mounted.current) return
    if (!result.ok) {
      setRun({ phase: 'idle' })
      setStartError(result.error.field ? `${result.error.message} (${result.error.field})` : result.error.message)
      return
    }
    const exportId = result.value.exportId
    if (exportId === null) {
      // The person dismissed the save dialog: nothing to report.
      setRun({ phase: 'idle' })
      onClose()
      return
    }
    currentId.current = exportId
    const first = early.current.get(exportId)
    early.current.clear()
    const names = new Map(rows.map((row) => [row.id, row.label ?? row.type]))
    const what = describeExportRequest(built.request, (id) => names.get(id) ?? `#${id}`)
    setRun({ phase: 'active', exportId, progress: first ?? startingProgress(exportId), cancelling: false, what })
  }

  const cancel = async (): Promise<void> => {
    if (run.phase !== 'active') return
    const { exportId } = run
    setRun((previous) => (previous.phase === 'active' ? { ...previous, cancelling: true } : previous))
    const result = await client.call('export.cancel', { exportId })
    if (!mounted.current) return
    setRun((previous) => {
      if (previous.phase !== 'active' || previous.exportId !== exportId) return previous
      if (!result.ok) return { ...previous, cancelling: false }
      // The engine follows with a 'cancelled' progress event; this only saves waiting for it.
      const progress: ExportProgress =
        result.value.cancelled && previous.progress.state === 'running' ? { ...previous.progress, state: 'cancelled' } : previous.progress
      return { ...previous, progress, cancelling: false }
    })
    if (!result.ok) setStartError(result.error.message)
  }

  const newExport = (): void => {
    currentId.current = null
    setRun({ phase: 'idle' })
    setStartError(null)
  }

  if (!open) return null

  const busy = run.phase === 'starting' || (progress !== null && progress.state === 'running')
  const showForm = run.phase !== 'active'

  return (
    <Modal
      testId="export-dialog"
      closeTestId="export-close"
      className="export-dialog"
      title={<>Export events{connectionName && <span className="modal-title-meta"> from {connectionName}</span>}</>}
      onClose={close}
      initialFocus={showForm ? '[data-testid="export-kind"]' : '.export-run button'}
    >
      {showForm ? (
        <form ref={formRef} className="export-form" noValidate onSubmit={(event) => void start(event)}>
          <fieldset className="export-subscriptions" data-testid="export-subscriptions" disabled={busy}>
            <legend className="field-label">Subscriptions</legend>
            {connectionId === null ? (
              <p className="field-hint">Select a connection on the left first.</p>
            ) : !choices.loaded || choices.connectionId !== connectionId ? (
              <p className="field-hint">Loading subscriptions…</p>
            ) : choices.error ? (
              <p className="field-error" role="alert">
                Could not load the subscriptions: {choices.error}. The export can still take every event of the connection.
              </p>
            ) : rows.length === 0 ? (
              <p className="field-hint" data-testid="export-subscriptions-empty">
                This connection has no subscriptions yet, so the export takes every event captured on it (blocks included). Add one in the Subscriptions tab to
                export only its events.
              </p>
            ) : (
              <>
                <ul className="export-subscription-list">
                  {rows.map((row) => (
                    <li key={row.id}>
                      <label className="export-subscription">
                        <input
                          type="checkbox"
                          value={row.id}
                          data-testid="export-subscription"
                          data-subscription-id={row.id}
                          checked={ticked.includes(row.id)}
                          onChange={(event) => toggleSubscription(row.id, event.target.checked)}
                        />
                        <span className="export-subscription-name">{row.label ?? row.type}</span>
                        <span className="export-subscription-params mono">{summarizeParams(row)}</span>
                        <span className="export-subscription-count">{countLabel(row.eventCount, 'event')}</span>
                      </label>
                    </li>
                  ))}
                </ul>
                <div className="export-subscription-summary">
                  <span className="field-hint" data-testid="export-subscriptions-summary">
                    {ticked.length === 0
                      ? `None ticked: all ${countLabel(rows.length, 'subscription')} of this connection`
                      : `${formatInteger(ticked.length)} of ${countLabel(rows.length, 'subscription')} ticked`}
                  </span>
                  {ticked.length > 0 && (
                    <button type="button" className="link-button" onClick={() => edit('subscriptionIds', [])}>
                      Clear
                    </button>
                  )}
                </div>
              </>
            )}
          </fieldset>

          <div className="export-grid">
            <label className="field" htmlFor="export-kind">
              <span className="field-label">Type</span>
              <select
                id="export-kind"
                data-testid="export-kind"
                value={draft.kind}
                disabled={busy}
                onChange={(event) => edit('kind', event.target.value as ExportDraft['kind'])}
              >
                <option value="">Every type</option>
                {EVENT_KINDS.map((kind) => (
                  <option key={kind} value={kind}>
                    {EXPORT_KIND_LABELS[kind]}
                  </option>
                ))}
              </select>
            </label>
            <label className="field" htmlFor="export-format">
              <span className="field-label">Format</span>
              <select
                id="export-format"
                data-testid="export-format"
                value={draft.format}
                disabled={busy}
                onChange={(event) => edit('format', event.target.value as ExportDraft['format'])}
              >
                {EXPORT_FORMATS.map((format) => (
                  <option key={format} value={format}>
                    {EXPORT_FORMAT_LABELS[format]}
                  </option>
                ))}
              </select>
              <span className="field-hint">{EXPORT_FORMAT_HINTS[draft.format]}</span>
            </label>
          </div>

          <RangeRow
            legend="Blocks"
            optional="any block"
            type="text"
            from={{ field: 'fromBlock', value: draft.fromBlock, placeholder: 'first', error: errors.fromBlock }}
            to={{ field: 'toBlock', value: draft.toBlock, placeholder: 'latest', error: errors.toBlock }}
            disabled={busy}
            onChange={edit}
          />
          <RangeRow
            legend="Received"
            optional="any time"
            type="datetime-local"
            from={{ field: 'fromTime', value: draft.fromTime, placeholder: '', error: errors.fromTime }}
            to={{ field: 'toTime', value: draft.toTime, placeholder: '', error: errors.toTime }}
            disabled={busy}
            onChange={edit}
          />

          {startError && (
            <p className="form-errors" role="alert" data-testid="export-error">
              {startError}
            </p>
          )}

          <div className="modal-footer">
            <span className="field-hint">
              {run.phase === 'starting'
                ? isBrowser
                  ? 'Starting…'
                  : 'Choose where to save the file…'
                : isBrowser
                  ? 'Your browser downloads the file when it is ready.'
                  : 'You choose where to save the file next.'}
            </span>
            <button type="button" className="button" onClick={close}>
              Close
            </button>
            <button type="submit" className="button button-primary" data-testid="export-start" disabled={busy}>
              {run.phase === 'starting' ? 'Starting…' : 'Start export'}
            </button>
          </div>
        </form>
      ) : (
        progress && (
          <ExportRun
            progress={progress}
            what={run.phase === 'active' ? run.what : ''}
            href={href}
            isBrowser={isBrowser}
            cancelling={run.phase === 'active' && run.cancelling}
            error={startError}
            onCancel={() => void cancel()}
            onNew={newExport}
            onClose={close}
          />
        )
      )}
    </Modal>
  )
}

interface RangeEnd {
  field: ExportField
  value: string
  placeholder: string
  error: string | undefined
}

function RangeRow(props: {
  legend: string
  optional: string
  type: 'text' | 'datetime-local'
  from: RangeEnd
  to: RangeEnd
  disabled: boolean
  onChange(field: ExportField, value: string): void
}) {
  const { legend, optional, type, from, to, disabled, onChange } = props
  const input = (end: RangeEnd, label: string) => {
    const id = FIELD_TEST_IDS[end.field]
    return (
      <label className="export-range-end" htmlFor={id}>
        <span className="export-range-word">{label}</span>
        <input
          id={id}
          type={type}
          data-testid={id}
          className={type === 'text' ? 'mono' : undefined}
          inputMode={type === 'text' ? 'numeric' : undefined}
          placeholder={end.placeholder}
          value={end.value}
          disabled={disabled}
          aria-invalid={end.error ? 'true' : undefined}
          aria-describedby={end.error ? `${id}-error` : undefined}
          onChange={(event) => onChange(end.field, event.target.value)}
        />
      </label>
    )
  }
  return (
    <fieldset className="export-range">
      <legend className="field-label">
        {legend} <span className="field-optional">(optional: {optional})</span>
      </legend>
      <div className="export-range-inputs">
        {input(from, 'from')}
        {input(to, 'to')}
      </div>
      {[from, to].map(
        (end) =>
          end.error && (
            <p key={end.field} id={`${FIELD_TEST_IDS[end.field]}-error`} className="field-error" data-testid={`${FIELD_TEST_IDS[end.field]}-error`}>
              {end.error}
            </p>
          ),
      )}
    </fieldset>
  )
}

const STATE_TEXT: Record<ExportProgress['state'], string> = {
  running: 'Exporting…',
  done: 'Export finished',
  cancelled: 'Export cancelled',
  failed: 'Export failed',
}

function ExportRun(props: {
  progress: ExportProgress
  what: string
  href: string | null
  isBrowser: boolean
  cancelling: boolean
  error: string | null
  onCancel(): void
  onNew(): void
  onClose(): void
}) {
  const { progress, what, href, isBrowser, cancelling, error, onCancel, onNew, onClose } = props
  const { state, rows, totalRows, file } = progress
  const percent = exportPercent(rows, totalRows)
  const shownPercent = state === 'done' ? 100 : percent
  const counts =
    totalRows > 0
      ? `${formatInteger(rows)} of ${countLabel(totalRows, 'row')}`
      : state === 'running'
        ? `${countLabel(rows, 'row')} so far`
        : countLabel(rows, 'row')

  return (
    <div className="export-run">
      <div className={`export-progress export-progress-${state}`} data-testid="export-progress" data-rows={rows} data-total={totalRows} data-state={state}>
        <div className="export-progress-top">
          <span className="export-progress-state" data-testid="export-state">
            {STATE_TEXT[state]}
          </span>
          <span className="export-progress-counts">
            {counts}
            {shownPercent !== null && state === 'running' && <span className="subtle"> · {shownPercent}%</span>}
          </span>
        </div>
        <div
          className={`export-track${state === 'running' && percent === null ? ' is-indeterminate' : ''}`}
          role="progressbar"
          aria-label="Rows exported"
          aria-valuemin={0}
          aria-valuemax={totalRows > 0 ? totalRows : undefined}
          aria-valuenow={totalRows > 0 ? rows : undefined}
        >
          <div className="export-fill" style={{ width: `${shownPercent ?? (state === 'running' ? 30 : 0)}%` }} />
        </div>
        {what && (
          <span className="export-progress-what" data-testid="export-what">
            {what}
          </span>
        )}
      </div>

      {state === 'done' && (
        <div className="export-result" data-testid="export-result">
          {href ? (
            <p>
              {file ? (
                <>
                  Your browser is downloading <strong className="mono">{baseName(file)}</strong>.{' '}
                </>
              ) : (
                'Your browser is downloading the file. '
              )}
              If it did not start,{' '}
              <a className="export-download" href={href} download={file ? baseName(file) : ''} data-testid="export-download">
                Download
              </a>{' '}
              it.
            </p>
          ) : file ? (
            <div className="export-file-row">
              <span className="field-hint">{isBrowser ? 'File' : 'Saved to'}</span>
              <code className="export-file mono" data-testid="export-file" title={file}>
                {file}
              </code>
              <CopyButton text={file} label="Copy path" testId="export-file-copy" />
            </div>
          ) : (
            <p className="field-hint">The export finished.</p>
          )}
          {rows === 0 && (
            <p className="field-hint" data-testid="export-empty">
              Nothing matched these choices, so the file holds no events. Widen the range or tick other subscriptions.
            </p>
          )}
        </div>
      )}
      {state === 'cancelled' && (
        <p className="field-hint" data-testid="export-cancelled">
          Stopped after {countLabel(rows, 'row')}; {isBrowser ? 'nothing was downloaded' : 'the partial file was not kept'}.
        </p>
      )}
      {(state === 'failed' || error) && (
        <p className="form-errors" role="alert" data-testid="export-error">
          {progress.error ?? error ?? 'The export failed.'}
        </p>
      )}

      <div className="modal-footer">
        {state === 'running' ? (
          <>
            <span className="field-hint">You can close this dialog; the export keeps running{isBrowser ? ' and downloads when done' : ''}.</span>
            <button type="button" className="button" onClick={onClose}>
              Hide
            </button>
            <button type="button" className="button button-danger" data-testid="export-cancel" disabled={cancelling} onClick={onCancel}>
              {cancelling ? 'Cancelling…' : 'Cancel export'}
            </button>
          </>
        ) : (
          <>
            <span />
            <button type="button" className="button" data-testid="export-new" onClick={onNew}>
              New export
            </button>
            <button type="button" className="button button-primary" onClick={onClose}>
              Close
            </button>
          </>
        )}
      </div>
    </div>
  )
}
