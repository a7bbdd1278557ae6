import { useId } from 'react'
import { FieldError } from './FieldError'

interface Props {
  label: string
  hint: string
  required?: boolean
  value: string
  testId: string
  field: string
  messages: readonly string[]
  onChange(value: string): void
  onBlur(): void
}

/** A textarea for addresses, one per line or comma separated. */
export function AddressListField({ label, hint, required = false, value, testId, field, messages, onChange, onBlur }: Props) {
  const id = useId()
  const hintId = useId()
  const errorId = useId()
  const invalid = messages.length > 0
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label} {!required && <span className="field-optional">(optional)</span>}
      </label>
      <textarea
        id={id}
        rows={2}
        value={value}
        placeholder="0x… (one per line or comma separated)"
        spellCheck={false}
        autoComplete="off"
        className="mono"
        aria-invalid={invalid ? true : undefined}
        aria-describedby={invalid ? `${hintId} ${errorId}` : hintId}
        data-testid={testId}
        onChange={(event) => onChange(event.target.value)}
        onBlur={onBlur}
      />
      <span id={hintId} className="field-hint">
        {hint}
      </span>
      <FieldError id={errorId} field={field} messages={messages} />
    </div>
  )
}
