import { useId } from 'react'
import type { MinedPairDraft } from './subscriptionDraft'
import { FieldError } from './FieldError'

interface Props {
  index: number
  pair: MinedPairDraft
  fromMessages: readonly string[]
  toMessages: readonly string[]
  onChange(pair: MinedPairDraft): void
  onBlur(side: 'from' | 'to'): void
  onRemove(): void
}

/** One {from, to} filter of alchemy_minedTransactions; an empty side matches any address. */
export function MinedPairRow({ index, pair, fromMessages, toMessages, onChange, onBlur, onRemove }: Props) {
  const fromErrorId = useId()
  const toErrorId = useId()
  return (
    <div className="pair-row" data-testid="mined-pair" data-index={index}>
      <input
        type="text"
        className="mono"
        value={pair.from}
        placeholder="from 0x… (any)"
        spellCheck={false}
        autoComplete="off"
        aria-label={`Pair ${index + 1} from address`}
        aria-invalid={fromMessages.length > 0 ? true : undefined}
        aria-describedby={fromMessages.length > 0 ? fromErrorId : undefined}
        data-testid={`mined-from-${index}`}
        onChange={(event) => onChange({ ...pair, from: event.target.value })}
        onBlur={() => onBlur('from')}
      />
      <span className="pair-arrow" aria-hidden="true">
        →
      </span>
      <input
        type="text"
        className="mono"
        value={pair.to}
        placeholder="to 0x… (any)"
        spellCheck={false}
        autoComplete="off"
        aria-label={`Pair ${index + 1} to address`}
        aria-invalid={toMessages.length > 0 ? true : undefined}
        aria-describedby={toMessages.length > 0 ? toErrorId : undefined}
        data-testid={`mined-to-${index}`}
        onChange={(event) => onChange({ ...pair, to: event.target.value })}
        onBlur={() => onBlur('to')}
      />
      <button
        type="button"
        className="icon-button"
        aria-label={`Remove pair ${index + 1}`}
        title={`Remove pair ${index + 1}`}
        data-testid={`mined-remove-${index}`}
        onClick={onRemove}
      >
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <path d="M4 4l8 8M12 4l-8 8" />
        </svg>
      </button>
      <FieldError id={fromErrorId} field={`mined-from-${index}`} messages={fromMessages} />
      <FieldError id={toErrorId} field={`mined-to-${index}`} messages={toMessages} />
    </div>
  )
}
