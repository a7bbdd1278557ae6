import { useId } from 'react'
import type { TopicDraft, TopicMode } from './subscriptionDraft'
import { FieldError } from './FieldError'

interface Props {
  index: number
  topic: TopicDraft
  messages: readonly string[]
  onChange(topic: TopicDraft): void
  onBlur(): void
  onRemove(): void
  /** A computed row (from the event picker): shown, not editable, not removable. */
  readOnly?: boolean
  /** What this position is, shown next to the index (e.g. "from · address"). */
  caption?: string
}

const PLACEHOLDERS: Record<TopicMode, string> = {
  any: 'any value',
  one: '0x… (32-byte topic)',
  several: '0x…, 0x… (any of these; comma or newline separated)',
}

/** One topic position of a logs filter: any value, exactly one, or one of several. */
export function TopicPositionRow({ index, topic, messages, onChange, onBlur, onRemove, readOnly = false, caption }: Props) {
  const inputId = useId()
  const errorId = useId()
  const invalid = messages.length > 0
  const common = {
    id: inputId,
    value: topic.text,
    placeholder: readOnly && topic.mode === 'any' ? 'any value' : PLACEHOLDERS[topic.mode],
    readOnly,
    spellCheck: false,
    autoComplete: 'off',
    className: 'mono',
    'aria-label': `Topic ${index} value`,
    'aria-invalid': invalid ? true : undefined,
    'aria-describedby': invalid ? errorId : undefined,
    'data-testid': `topic-input-${index}`,
    onBlur,
  } as const

  return (
    <div className={`topic-row${readOnly ? ' is-computed' : ''}`} data-testid="topic-row" data-index={index} data-computed={readOnly ? 'true' : undefined}>
      <label className="topic-index" htmlFor={inputId} title={caption}>
        Topic {index}
        {caption && <span className="topic-caption">{caption}</span>}
      </label>
      <select
        value={topic.mode}
        disabled={readOnly}
        aria-label={`Topic ${index} match`}
        data-testid={`topic-mode-${index}`}
        onChange={(event) => onChange({ ...topic, mode: event.target.value as TopicMode })}
      >
        <option value="any">any</option>
        <option value="one">one</option>
        <option value="several">several</option>
      </select>
      {topic.mode === 'several' ? (
        <textarea
          {...common}
          rows={readOnly ? Math.min(4, topic.text.split('\n').length) : 2}
          onChange={(event) => onChange({ ...topic, text: event.target.value })}
        />
      ) : (
        <input
          {...common}
          type="text"
          disabled={topic.mode === 'any'}
          title={readOnly ? topic.text : undefined}
          onChange={(event) => onChange({ ...topic, text: event.target.value })}
        />
      )}
      {readOnly ? (
        <span className="topic-row-spacer" aria-hidden="true" />
      ) : (
        <button
          type="button"
          className="icon-button"
          aria-label={`Remove topic position ${index}`}
          title={`Remove topic position ${index}`}
          data-testid={`topic-remove-${index}`}
          onClick={onRemove}
        >
          <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <path d="M4 4l8 8M12 4l-8 8" />
          </svg>
        </button>
      )}
      <FieldError id={errorId} field={`topic-${index}`} messages={messages} />
    </div>
  )
}
