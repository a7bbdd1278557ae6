import { useId } from 'react'
import { argPlaceholder, ARG_MODES, type ArgDraft, type ArgMode, type IndexedArg } from './eventTopics'
import { FieldError } from './FieldError'

interface Props {
  arg: IndexedArg
  draft: ArgDraft
  messages: readonly string[]
  onChange(draft: ArgDraft): void
  onBlur(): void
}

/** One indexed argument of the picked event: any value, exactly one, or one of several, typed as its ABI type. */
export function EventPickerArgRow({ arg, draft, messages, onChange, onBlur }: Props) {
  const inputId = useId()
  const errorId = useId()
  const invalid = messages.length > 0
  const mode: ArgMode = arg.filterable ? draft.mode : 'any'
  const shownName = arg.name === '' ? arg.key : arg.name
  const common = {
    id: inputId,
    value: arg.filterable ? draft.text : '',
    placeholder: argPlaceholder(arg, mode),
    spellCheck: false,
    autoComplete: 'off',
    className: arg.type === 'string' ? undefined : 'mono',
    'aria-label': `${shownName} (${arg.type}) value`,
    'aria-invalid': invalid ? true : undefined,
    'aria-describedby': invalid ? errorId : undefined,
    'data-testid': `event-arg-input-${arg.key}`,
    onBlur,
  } as const

  return (
    <div className="event-arg-row" data-testid="event-arg-row" data-arg={arg.key} data-type={arg.type}>
      <label className="event-arg-label" htmlFor={inputId} title={`Indexed ${arg.type}: topic ${arg.position}`}>
        <span className="event-arg-name">{shownName}</span>
        <span className="event-arg-type mono">{arg.type}</span>
        <span className="event-arg-position">topic {arg.position}</span>
      </label>
      <select
        value={mode}
        disabled={!arg.filterable}
        aria-label={`${shownName} match`}
        data-testid={`event-arg-mode-${arg.key}`}
        onChange={(event) => onChange({ ...draft, mode: event.target.value as ArgMode })}
      >
        {ARG_MODES.map((value) => (
          <option key={value} value={value}>
            {value}
          </option>
        ))}
      </select>
      {mode === 'several' ? (
        <textarea {...common} rows={2} onChange={(event) => onChange({ ...draft, text: event.target.value })} />
      ) : (
        <input {...common} type="text" disabled={mode === 'any'} onChange={(event) => onChange({ ...draft, text: event.target.value })} />
      )}
      {(arg.hashed || !arg.filterable) && (
        <span className="field-hint event-arg-note">
          {arg.filterable
            ? `Indexed ${arg.type} values are stored as their keccak256 hash; the hash of what you type is matched.`
            : `Indexed ${arg.type} values are stored as a hash of their encoding; this position matches any value.`}
        </span>
      )}
      <FieldError id={errorId} field={`event-arg-${arg.key}`} messages={messages} />
    </div>
  )
}
