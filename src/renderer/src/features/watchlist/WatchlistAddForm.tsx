import { useId, useState, type FormEvent } from 'react'
import { getAddress, isAddress } from 'viem'
import { commands, type WatchlistEntry } from '@shared/contract'
import { useClient } from '../../hooks/useClient'
import '../../panels.css'

/** Colours offered by default, one after another as entries are added. */
const WATCHLIST_PALETTE = ['#3b82f6', '#22c55e', '#f59e0b', '#ef4444', '#a855f7', '#06b6d4', '#ec4899', '#84cc16'] as const

type Field = 'address' | 'label' | 'color'

interface Checked {
  address: string | null
  issues: { field: Field; message: string }[]
}

/** The typed address (checksum included), label and colour against what watchlist.upsert accepts. */
function checkWatchlistInput(address: string, label: string, color: string): Checked {
  const issues: Checked['issues'] = []
  const trimmed = address.trim()
  let normalized: string | null = null
  if (trimmed === '') issues.push({ field: 'address', message: 'Enter the address to watch (0x followed by 40 hex digits)' })
  else if (!/^0x[0-9a-fA-F]{40}$/.test(trimmed)) {
    issues.push({ field: 'address', message: 'Not an address: expected 0x followed by 40 hex digits' })
  } else if (!isAddress(trimmed, { strict: true })) {
    issues.push({
      field: 'address',
      message: `The mixed-case checksum does not match (a typo?); ${getAddress(trimmed.toLowerCase())} is the checksummed form`,
    })
  } else normalized = trimmed.toLowerCase()
  const schema = commands['watchlist.upsert'].request.shape
  const labelResult = schema.label.safeParse(label)
  if (!labelResult.success) issues.push({ field: 'label', message: labelResult.error.issues[0]?.message ?? 'Invalid label' })
  const colorResult = schema.color.safeParse(color)
  if (!colorResult.success) issues.push({ field: 'color', message: colorResult.error.issues[0]?.message ?? 'Invalid colour' })
  return { address: normalized, issues }
}

interface Props {
  entries: readonly WatchlistEntry[]
  onSaved(entry: WatchlistEntry): void
}

/** Adds an address (or relabels one already watched); checked as typed, the engine's answer shown when it refuses. */
export function WatchlistAddForm({ entries, onSaved }: Props) {
  const client = useClient()
  const addressId = useId()
  const labelId = useId()
  const colorId = useId()
  const errorId = useId()
  const [address, setAddress] = useState('')
  const [label, setLabel] = useState('')
  const [color, setColor] = useState<string>(WATCHLIST_PALETTE[entries.length % WATCHLIST_PALETTE.length]!)
  const [colorChosen, setColorChosen] = useState(false)
  const [touched, setTouched] = useState<ReadonlySet<Field>>(new Set())
  const [serverError, setServerError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const shownColor = colorChosen ? color : WATCHLIST_PALETTE[entries.length % WATCHLIST_PALETTE.length]!
  const checked = checkWatchlistInput(address, label, shownColor)
  const filled = (field: Field): boolean => (field === 'address' ? address.trim() !== '' : field === 'label' ? label.trim() !== '' : true)
  // An empty form is not an error, however often it was visited.
  const pristine = address.trim() === '' && label.trim() === ''
  const visible = pristine ? [] : checked.issues.filter((issue) => touched.has(issue.field) || filled(issue.field))
  const messages = [...visible.map((issue) => issue.message), ...(serverError ? [serverError] : [])]
  const invalid = (field: Field): true | undefined => (visible.some((issue) => issue.field === field) ? true : undefined)
  const existing = checked.address ? entries.find((entry) => entry.address.toLowerCase() === checked.address) : undefined
  const touch = (field: Field): void => setTouched((previous) => (previous.has(field) ? previous : new Set(previous).add(field)))

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault()
    if (checked.issues.length > 0 || !checked.address) {
      setTouched(new Set<Field>(['address', 'label', 'color']))
      return
    }
    setBusy(true)
    setServerError(null)
    const result = await client.call('watchlist.upsert', {
      address: checked.address,
      label: label.trim(),
      color: shownColor,
      notify: existing?.notify ?? false,
    })
    setBusy(false)
    if (!result.ok) {
      setServerError(result.error.message)
      return
    }
    setAddress('')
    setLabel('')
    setColorChosen(false)
    setTouched(new Set())
    onSaved(result.value)
  }

  return (
    <form className="add-form watchlist-add" data-testid="watchlist-add-form" onSubmit={(event) => void submit(event)} noValidate>
      <div className="add-form-title">Watch an address</div>
      <div className="field">
        <label className="field-label" htmlFor={addressId}>
          Address
        </label>
        <input
          id={addressId}
          type="text"
          className="mono"
          value={address}
          placeholder="0x…"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={invalid('address')}
          aria-describedby={messages.length > 0 ? errorId : undefined}
          data-testid="watchlist-address-input"
          onChange={(event) => {
            setAddress(event.target.value)
            setServerError(null)
          }}
          onBlur={() => touch('address')}
        />
        {checked.address && (
          <span className="field-hint" data-testid="watchlist-address-checksummed">
            <span className="mono">{getAddress(checked.address)}</span>
            {existing && <> · already watched as “{existing.label}”: saving relabels it</>}
          </span>
        )}
      </div>
      <div className="watchlist-add-line">
        <div className="field watchlist-label-field">
          <label className="field-label" htmlFor={labelId}>
            Label
          </label>
          <input
            id={labelId}
            type="text"
            value={label}
            maxLength={80}
            placeholder="Treasury"
            autoComplete="off"
            aria-invalid={invalid('label')}
            data-testid="watchlist-label-input"
            onChange={(event) => {
              setLabel(event.target.value)
              setServerError(null)
            }}
            onBlur={() => touch('label')}
          />
        </div>
        <div className="field watchlist-color-field">
          <label className="field-label" htmlFor={colorId}>
            Colour
          </label>
          <input
            id={colorId}
            type="color"
            value={shownColor}
            aria-invalid={invalid('color')}
            data-testid="watchlist-color-input"
            onChange={(event) => {
              setColor(event.target.value)
              setColorChosen(true)
            }}
          />
        </div>
        <button
          type="submit"
          className="button button-primary"
          data-testid="watchlist-add-button"
          disabled={busy || checked.issues.length > 0}
          title={checked.issues[0]?.message}
        >
          {busy ? 'Saving…' : existing ? 'Update' : 'Add'}
        </button>
      </div>
      {messages.length > 0 && (
        <ul id={errorId} className="form-errors" role="alert" data-testid="watchlist-error">
          {messages.map((message, index) => (
            <li key={index}>{message}</li>
          ))}
        </ul>
      )}
    </form>
  )
}
