import { useId } from 'react'
import { FieldError } from './FieldError'
import type { FieldKey, SubscriptionDraft } from './subscriptionDraft'
import { describeWatchPlan } from './subscriptionSummary'

interface Props {
  draft: SubscriptionDraft
  startBlockMessages: readonly string[]
  withProgressMessages: readonly string[]
  onChange(change: Partial<SubscriptionDraft>): void
  onBlur(field: FieldKey): void
}

/**
 * The dfuse-style options of a logs or newHeads watch (PROTOCOL.md section 1): where the
 * stream starts, whether it keeps listening, finality and progress.
 */
export function WatchOptionsFields({ draft, startBlockMessages, withProgressMessages, onChange, onBlur }: Props) {
  const titleId = useId()
  const startId = useId()
  const startHintId = useId()
  const startErrorId = useId()
  const progressId = useId()
  const progressHintId = useId()
  const progressErrorId = useId()
  const startInvalid = startBlockMessages.length > 0
  const progressInvalid = withProgressMessages.length > 0
  const plan = describeWatchPlan(draft)

  return (
    <fieldset className="field-group watch-options" aria-labelledby={titleId} data-testid="watch-options">
      <div className="field-group-header">
        <span id={titleId} className="field-label">
          Stream options
        </span>
        <span className="field-hint">history from a start block, finality and progress, as on /v1/stream</span>
      </div>

      <div className="field">
        <label className="field-label" htmlFor={startId}>
          Start block <span className="field-optional">(optional)</span>
        </label>
        <input
          id={startId}
          type="text"
          className="mono"
          value={draft.startBlock}
          placeholder="next block (live only)"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={startInvalid ? true : undefined}
          aria-describedby={startInvalid ? `${startHintId} ${startErrorId}` : startHintId}
          data-testid="watch-start-block"
          onChange={(event) => onChange({ startBlock: event.target.value })}
          onBlur={() => onBlur('startBlock')}
        />
        <span id={startHintId} className="field-hint">
          empty = from the next block; -500 = the last 500 blocks; 0 = genesis
        </span>
        <FieldError id={startErrorId} field="startBlock" messages={startBlockMessages} />
      </div>

      {draft.type === 'newHeads' && (
        <label className="check-field" title="Send the current head block first, before any new one">
          <input type="checkbox" checked={draft.fetch} data-testid="watch-fetch" onChange={(event) => onChange({ fetch: event.target.checked })} />
          Fetch: first send the current head
        </label>
      )}

      <label className="check-field" title="Unchecked: stop after the history up to the head">
        <input type="checkbox" checked={draft.listen} data-testid="watch-listen" onChange={(event) => onChange({ listen: event.target.checked })} />
        Listen: keep streaming new blocks after the history
      </label>

      <label className="check-field" title="Events wait until their block is final; no removed events">
        <input
          type="checkbox"
          checked={draft.irreversibleOnly}
          data-testid="watch-irreversible"
          onChange={(event) => onChange({ irreversibleOnly: event.target.checked })}
        />
        Irreversible only: final blocks only (events wait for finality)
      </label>

      <div className="field">
        <label className="field-label" htmlFor={progressId}>
          Progress every N blocks <span className="field-optional">(optional)</span>
        </label>
        <input
          id={progressId}
          type="text"
          inputMode="numeric"
          className="mono watch-progress-input"
          value={draft.withProgress}
          placeholder="off"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={progressInvalid ? true : undefined}
          aria-describedby={progressInvalid ? `${progressHintId} ${progressErrorId}` : progressHintId}
          data-testid="watch-progress"
          onChange={(event) => onChange({ withProgress: event.target.value })}
          onBlur={() => onBlur('withProgress')}
        />
        <span id={progressHintId} className="field-hint">
          a progress mark after every N blocks processed, matched or not
        </span>
        <FieldError id={progressErrorId} field="withProgress" messages={withProgressMessages} />
      </div>

      {plan && (
        <p className="field-hint watch-plan" data-testid="watch-plan">
          {plan}
        </p>
      )}
    </fieldset>
  )
}
