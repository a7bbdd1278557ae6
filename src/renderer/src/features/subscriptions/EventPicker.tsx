import { useCallback, useEffect, useId, useMemo, useState } from 'react'
import type { AbiEvent } from 'viem'
import type { AbiEntry } from '@shared/contract'
import { BUILT_IN_EVENTS } from '@shared/event-catalog'
import { useClient } from '../../hooks/useClient'
import { EventPickerArgRow } from './EventPickerArgRow'
import { eventKey, eventSelector, formatEvent, indexedArgs, parseAbiEvents, parseEventSignature, type ArgDraft } from './eventTopics'
import { FieldError } from './FieldError'
import { resolveEvent, type EventPickerDraft, type FieldKey } from './subscriptionDraft'
import '../../panels.css'

interface Props {
  picker: EventPickerDraft
  messagesFor(field: FieldKey): string[]
  onChange(picker: EventPickerDraft): void
  onBlur(field: FieldKey): void
}

/**
 * Readable signatures (with `indexed`) of events whose ABI was saved from here, by canonical
 * signature: a saved ABI is listed by canonical signatures only, which do not say which
 * arguments are indexed.
 */
const SIGNATURE_CACHE_KEY = 'tidewatch.eventSignatures'

function readSignatureCache(): Record<string, string> {
  try {
    const raw = window.localStorage.getItem(SIGNATURE_CACHE_KEY)
    const parsed: unknown = raw ? JSON.parse(raw) : {}
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {}
  } catch {
    return {}
  }
}

function rememberSignatures(events: readonly AbiEvent[]): void {
  try {
    const cache = readSignatureCache()
    for (const event of events) cache[eventKey(event)] = formatEvent(event)
    window.localStorage.setItem(SIGNATURE_CACHE_KEY, JSON.stringify(cache))
  } catch {
    // Storage may be disabled: saved events then filter by topic 0 only.
  }
}

/** The best parseable signature for an event listed by a saved ABI: as listed when it says `indexed`, else remembered or built in. */
function readableSavedSignature(listed: string): string {
  const parsed = parseEventSignature(listed)
  if ('error' in parsed) return listed
  if (parsed.event.inputs.some((input) => input.indexed)) return formatEvent(parsed.event)
  const key = eventKey(parsed.event)
  const remembered = readSignatureCache()[key]
  if (remembered) return remembered
  for (const entry of BUILT_IN_EVENTS) {
    const builtIn = parseEventSignature(entry.signature)
    if ('event' in builtIn && eventKey(builtIn.event) === key) return entry.signature
  }
  return formatEvent(parsed.event)
}

const savedValue = (id: number, signature: string): string => `${id}|${signature}`

/** Chooses the event of a logs filter: built in, a pasted signature, a pasted or saved ABI; then its indexed arguments. */
export function EventPicker({ picker, messagesFor, onChange, onBlur }: Props) {
  const client = useClient()
  const builtinId = useId()
  const signatureId = useId()
  const abiId = useId()
  const savedId = useId()
  const abiNameId = useId()
  const errorId = useId()
  const [saved, setSaved] = useState<AbiEntry[] | null>(null)
  const [abiName, setAbiName] = useState('')
  const [saveState, setSaveState] = useState<{ kind: 'saving' | 'saved' | 'error'; message: string } | null>(null)

  const loadSaved = useCallback(() => {
    void client.call('abis.list', {}).then((result) => {
      // The engine may not offer saved ABIs yet: the rest of the picker works without them.
      setSaved(result.ok ? result.value : null)
    })
  }, [client])
  useEffect(loadSaved, [loadSaved])

  const resolved = useMemo(() => resolveEvent(picker), [picker])
  const abiParsed = useMemo(() => (picker.abi.trim() === '' ? null : parseAbiEvents(picker.abi)), [picker.abi])
  const abiEvents = abiParsed && 'events' in abiParsed ? abiParsed.events : []
  const args = resolved.event ? indexedArgs(resolved.event) : []
  const eventMessages = messagesFor('event')

  const change = (next: Partial<EventPickerDraft>): void => onChange({ ...picker, ...next })
  const setArg = (key: string, draft: ArgDraft): void => change({ args: { ...picker.args, [key]: draft } })

  const saveAbi = async (): Promise<void> => {
    if (!abiParsed || !('events' in abiParsed)) return
    setSaveState({ kind: 'saving', message: 'Saving…' })
    const result = await client.call('abis.add', { name: abiName.trim(), abi: picker.abi })
    if (result.ok) {
      rememberSignatures(abiParsed.events)
      setSaveState({ kind: 'saved', message: `Saved as “${result.value.name}” (${result.value.events.length} events)` })
      loadSaved()
    } else {
      setSaveState({ kind: 'error', message: result.error.message })
    }
  }

  const removeSaved = async (id: number): Promise<void> => {
    const result = await client.call('abis.remove', { id })
    if (result.ok) {
      if (picker.savedId === id) change({ source: 'none', savedId: null, savedSignature: '' })
      loadSaved()
    } else {
      setSaveState({ kind: 'error', message: result.error.message })
    }
  }

  const savedOptions = useMemo(
    () =>
      saved?.map((entry) => ({
        entry,
        events: entry.events.map((listed) => ({ listed, signature: readableSavedSignature(listed) })),
      })) ?? [],
    [saved],
  )
  const savedEntry = saved?.find((entry) => entry.id === picker.savedId) ?? null
  const sourceMessages = (source: EventPickerDraft['source']): string[] => (picker.source === source ? eventMessages : [])

  return (
    <fieldset className="field-group event-picker" data-testid="event-picker" data-source={picker.source}>
      <div className="field-group-header">
        <span className="field-label">Event</span>
        <span className="field-hint">pick one to build topic 0 and its indexed arguments; or leave it on raw topics</span>
        <span className="connection-top-spacer" />
        {picker.source !== 'none' && (
          <button type="button" className="button button-small" data-testid="event-picker-raw" onClick={() => change({ source: 'none' })}>
            Use raw topics
          </button>
        )}
      </div>

      <div className={`event-source${picker.source === 'builtin' ? ' is-active' : ''}`}>
        <label className="event-source-label" htmlFor={builtinId}>
          Built in
        </label>
        <select
          id={builtinId}
          value={picker.source === 'builtin' ? (BUILT_IN_EVENTS[picker.builtin]?.label ?? '') : ''}
          data-testid="event-picker-builtin"
          onChange={(event) => {
            const index = BUILT_IN_EVENTS.findIndex((entry) => entry.label === event.target.value)
            change(index < 0 ? { source: 'none' } : { source: 'builtin', builtin: index })
          }}
        >
          <option value="">— none (raw topics) —</option>
          {BUILT_IN_EVENTS.map((entry) => (
            <option key={entry.label} value={entry.label} title={entry.signature}>
              {entry.label}
            </option>
          ))}
        </select>
      </div>

      {saved && saved.length > 0 && (
        <div className={`event-source${picker.source === 'saved' ? ' is-active' : ''}`}>
          <label className="event-source-label" htmlFor={savedId}>
            Saved ABIs
          </label>
          <div className="event-source-inline">
            <select
              id={savedId}
              value={picker.source === 'saved' && picker.savedId !== null ? savedValue(picker.savedId, picker.savedSignature) : ''}
              data-testid="event-picker-saved"
              onChange={(event) => {
                const value = event.target.value
                const bar = value.indexOf('|')
                if (bar < 0) {
                  change({ source: 'none' })
                  return
                }
                change({ source: 'saved', savedId: Number(value.slice(0, bar)), savedSignature: value.slice(bar + 1) })
              }}
            >
              <option value="">— choose a saved event —</option>
              {savedOptions.map(({ entry, events }) => (
                <optgroup key={entry.id} label={entry.name}>
                  {events.map(({ listed, signature }) => (
                    <option key={listed} value={savedValue(entry.id, signature)} title={signature}>
                      {listed}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
            {picker.source === 'saved' && savedEntry && (
              <button
                type="button"
                className="button button-small"
                data-testid="event-picker-saved-remove"
                title={`Forget the saved ABI “${savedEntry.name}”`}
                onClick={() => void removeSaved(savedEntry.id)}
              >
                Forget ABI
              </button>
            )}
          </div>
          <FieldError id={`${errorId}-saved`} field="event" messages={sourceMessages('saved')} />
        </div>
      )}

      <div className={`event-source${picker.source === 'signature' ? ' is-active' : ''}`}>
        <label className="event-source-label" htmlFor={signatureId}>
          Signature
        </label>
        <input
          id={signatureId}
          type="text"
          className="mono"
          value={picker.signature}
          placeholder="Transfer(address indexed from, address indexed to, uint256 value)"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={sourceMessages('signature').length > 0 ? true : undefined}
          aria-describedby={sourceMessages('signature').length > 0 ? `${errorId}-signature` : undefined}
          data-testid="event-picker-signature"
          onChange={(event) => {
            const signature = event.target.value
            change({ signature, source: signature.trim() === '' ? 'none' : 'signature' })
          }}
          onFocus={() => {
            if (picker.signature.trim() !== '' && picker.source !== 'signature') change({ source: 'signature' })
          }}
          onBlur={() => onBlur('event')}
        />
        <FieldError id={`${errorId}-signature`} field="event" messages={sourceMessages('signature')} />
      </div>

      <div className={`event-source${picker.source === 'abi' ? ' is-active' : ''}`}>
        <label className="event-source-label" htmlFor={abiId}>
          ABI
        </label>
        <textarea
          id={abiId}
          className="mono"
          rows={picker.abi.trim() === '' ? 1 : 3}
          value={picker.abi}
          placeholder='[{"type":"event","name":"Transfer","inputs":[…]}] — a JSON ABI, an artifact, or event lines'
          spellCheck={false}
          autoComplete="off"
          aria-invalid={sourceMessages('abi').length > 0 ? true : undefined}
          aria-describedby={sourceMessages('abi').length > 0 ? `${errorId}-abi` : undefined}
          data-testid="event-picker-abi"
          onChange={(event) => {
            const abi = event.target.value
            setSaveState(null)
            change({ abi, abiEvent: '', source: abi.trim() === '' ? 'none' : 'abi' })
          }}
          onFocus={() => {
            if (picker.abi.trim() !== '' && picker.source !== 'abi') change({ source: 'abi' })
          }}
          onBlur={() => onBlur('event')}
        />
        <FieldError id={`${errorId}-abi`} field="event" messages={sourceMessages('abi')} />
        {abiEvents.length > 0 && (
          <div className="event-source-inline">
            <select
              aria-label="Event of the pasted ABI"
              value={picker.abiEvent === '' ? eventKey(abiEvents[0]!) : picker.abiEvent}
              data-testid="event-picker-abi-event"
              onChange={(event) => change({ source: 'abi', abiEvent: event.target.value })}
            >
              {abiEvents.map((event) => {
                const key = eventKey(event)
                return (
                  <option key={key} value={key} title={formatEvent(event)}>
                    {key}
                  </option>
                )
              })}
            </select>
            <input
              id={abiNameId}
              type="text"
              className="event-abi-name"
              value={abiName}
              maxLength={100}
              placeholder="Name, e.g. USDC"
              aria-label="Name for the saved ABI"
              autoComplete="off"
              data-testid="event-picker-abi-name"
              onChange={(event) => {
                setAbiName(event.target.value)
                setSaveState(null)
              }}
            />
            <button
              type="button"
              className="button button-small"
              data-testid="event-picker-abi-save"
              disabled={abiName.trim() === '' || saveState?.kind === 'saving'}
              title={abiName.trim() === '' ? 'Name the ABI first' : 'Keep this ABI: its events decode captured logs and appear under Saved ABIs'}
              onClick={() => void saveAbi()}
            >
              Save this ABI
            </button>
          </div>
        )}
        {saveState && (
          <p
            className={saveState.kind === 'error' ? 'field-error' : 'field-hint'}
            role={saveState.kind === 'error' ? 'alert' : 'status'}
            data-testid={saveState.kind === 'error' ? 'event-picker-abi-save-error' : 'event-picker-abi-saved'}
          >
            {saveState.message}
          </p>
        )}
      </div>

      {resolved.event && (
        <div className="event-chosen" data-testid="event-picker-chosen" data-selector={eventSelector(resolved.event)}>
          <div className="mono event-chosen-signature" title={formatEvent(resolved.event)}>
            {formatEvent(resolved.event)}
          </div>
          <div className="field-hint">
            {resolved.event.anonymous ? (
              'Anonymous event: no signature topic, the indexed arguments start at topic 0.'
            ) : (
              <>
                topic 0 = <span className="mono">{eventSelector(resolved.event)}</span>
              </>
            )}
          </div>
          {args.length === 0 ? (
            <p className="field-hint" data-testid="event-picker-no-indexed">
              {picker.source === 'saved'
                ? 'The saved ABI lists this event without saying which arguments are indexed, so only topic 0 filters. Paste the ABI to filter by its arguments.'
                : 'This event has no indexed arguments: only topic 0 filters. (Arguments marked indexed in the signature can be filtered.)'}
            </p>
          ) : (
            <div className="event-args">
              {args.map((arg) => (
                <EventPickerArgRow
                  key={arg.key}
                  arg={arg}
                  draft={picker.args[arg.key] ?? { mode: 'any', text: '' }}
                  messages={messagesFor(`event-arg-${arg.key}`)}
                  onChange={(draft) => setArg(arg.key, draft)}
                  onBlur={() => onBlur(`event-arg-${arg.key}`)}
                />
              ))}
            </div>
          )}
        </div>
      )}
    </fieldset>
  )
}
