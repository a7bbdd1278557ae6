import { useId, useMemo, useState, type FormEvent } from 'react'
import { getAddress, isAddress } from 'viem'
import type { CommandResult, Subscription } from '@shared/contract'
import { SUBSCRIPTION_TYPES, type SubscriptionType } from '@shared/subscription-params'
import type { CreateSubscriptionRequest } from './useSubscriptions'
import { useWatchlist } from '../../hooks/useWatchlist'
import { AddressLabel } from '../../ui/AddressLabel'
import { AddressListField } from './AddressListField'
import { CopyButton } from '../../ui/CopyButton'
import { EventPicker } from './EventPicker'
import { indexedArgs } from './eventTopics'
import { FieldError } from './FieldError'
import { MinedPairRow } from './MinedPairRow'
import {
  eventPickerTopics,
  fieldForPath,
  fieldLabel,
  initialDraft,
  isFieldFilled,
  isWatchType,
  MAX_TOPIC_POSITIONS,
  pathFromServerField,
  splitList,
  topicsToRows,
  TYPE_DESCRIPTIONS,
  validateDraft,
  type FieldKey,
  type MinedPairDraft,
  type SubscriptionDraft,
  type TopicDraft,
} from './subscriptionDraft'
import { TopicPositionRow } from './TopicPositionRow'
import { WatchOptionsFields } from './WatchOptionsFields'
import '../../panels.css'

/** Where the wscat command connects: the real URL (with its key) never reaches the renderer. */
const WSCAT_URL_PLACEHOLDER = '<your endpoint>'

/** The request as a wscat command line; the JSON single-quoted for a POSIX shell. */
function wscatCommand(requestJson: string, url: string = WSCAT_URL_PLACEHOLDER): string {
  return `wscat -c ${url} -x '${requestJson.replace(/'/g, `'\\''`)}'`
}

/** Each address of a list field as typed: checksummed when valid, the reason when not. */
function AddressChecks({ text, testId }: { text: string; testId: string }) {
  const values = splitList(text)
  if (values.length === 0) return null
  return (
    <ul className="address-checks" data-testid={`${testId}-checked`} aria-label="Addresses as read">
      {values.map((value, index) => {
        const wellFormed = /^0x[0-9a-fA-F]{40}$/.test(value)
        const checksumOk = wellFormed && isAddress(value, { strict: true })
        const valid = wellFormed && checksumOk
        return (
          <li
            key={`${index}:${value}`}
            className={`address-check${valid ? '' : ' is-invalid'}`}
            data-testid="subscription-address-item"
            data-valid={valid ? 'true' : 'false'}
          >
            <span className="address-check-mark" aria-hidden="true">
              {valid ? '✓' : '✗'}
            </span>
            {valid ? (
              <>
                <span className="mono">{getAddress(value)}</span>
                <AddressLabel address={value} />
              </>
            ) : (
              <>
                <span className="mono">{value}</span>
                <span className="address-check-why">
                  {wellFormed ? `checksum does not match (a typo?) — ${getAddress(value.toLowerCase())} is valid` : 'not an address: 0x and 40 hex digits'}
                </span>
              </>
            )}
          </li>
        )
      })}
    </ul>
  )
}

/** "Add from watchlist…": appends the chosen entry's address to the field. */
function WatchlistAddressPick({ text, onAdd }: { text: string; onAdd(address: string): void }) {
  const { entries } = useWatchlist()
  const present = new Set(splitList(text).map((value) => value.toLowerCase()))
  return (
    <select
      className="address-pick"
      value=""
      aria-label="Add an address from the watchlist"
      disabled={entries.length === 0}
      title={entries.length === 0 ? 'The watchlist is empty' : undefined}
      data-testid="subscription-addresses-pick"
      onChange={(event) => {
        if (event.target.value) onAdd(event.target.value)
      }}
    >
      <option value="">{entries.length === 0 ? 'Watchlist is empty' : 'Add from watchlist…'}</option>
      {entries.map((entry) => (
        <option key={entry.address} value={entry.address} disabled={present.has(entry.address.toLowerCase())}>
          {entry.label} — {entry.address.slice(0, 8)}…{entry.address.slice(-6)}
        </option>
      ))}
    </select>
  )
}

function appendAddress(text: string, address: string): string {
  if (splitList(text).some((value) => value.toLowerCase() === address.toLowerCase())) return text
  const trimmed = text.replace(/[\s,]+$/, '')
  return trimmed === '' ? getAddress(address) : `${trimmed}\n${getAddress(address)}`
}

interface Props {
  /** Null when no connection is selected: the form stays visible but cannot submit. */
  connectionId: number | null
  onCreate(request: CreateSubscriptionRequest): Promise<CommandResult<'subscriptions.create'>>
  onCreated?(subscription: Subscription): void
}

interface ServerError {
  field: FieldKey
  message: string
}

/** Builds `{type, params}` from typed inputs, checks it with the contract as it is typed, previews the request. */
export function SubscriptionForm({ connectionId, onCreate, onCreated }: Props) {
  const [draft, setDraft] = useState<SubscriptionDraft>(() => initialDraft())
  /** Inputs the person has left at least once: their issues show even while empty. */
  const [touched, setTouched] = useState<ReadonlySet<FieldKey>>(() => new Set())
  const [serverError, setServerError] = useState<ServerError | null>(null)
  const [submitting, setSubmitting] = useState(false)
  const [createdNote, setCreatedNote] = useState<string | null>(null)
  const typeId = useId()
  const typeHintId = useId()
  const labelId = useId()
  const labelErrorId = useId()
  const topicsTitleId = useId()
  const pairsTitleId = useId()
  const generalErrorId = useId()

  const validation = useMemo(() => validateDraft(draft), [draft])
  const picked = useMemo(
    () => (draft.type === 'logs' && draft.eventPicker.source !== 'none' ? eventPickerTopics(draft.eventPicker) : null),
    [draft.type, draft.eventPicker],
  )
  const wscat = wscatCommand(validation.preview)

  const visibleIssues = validation.issues.filter((issue) => touched.has(issue.field) || isFieldFilled(draft, issue.field))
  const messagesFor = (field: FieldKey): string[] => [
    ...visibleIssues.filter((issue) => issue.field === field).map((issue) => issue.message),
    ...(serverError && serverError.field === field ? [serverError.message] : []),
  ]
  const listed = [
    ...visibleIssues.map((issue) => {
      const name = fieldLabel(issue.field)
      return name ? `${name}: ${issue.message}` : issue.message
    }),
    ...(serverError ? [serverError.message] : []),
  ]

  const valid = validation.spec !== null && validation.issues.length === 0
  const disabled = !valid || submitting || connectionId === null
  const blockedBy = connectionId === null ? 'Select a connection first' : !valid ? (validation.issues[0]?.message ?? 'Complete the form') : undefined

  const edit = (change: Partial<SubscriptionDraft>): void => {
    setDraft((previous) => ({ ...previous, ...change }))
    setServerError(null)
    setCreatedNote(null)
  }
  const touch = (field: FieldKey): void => {
    setTouched((previous) => (previous.has(field) ? previous : new Set(previous).add(field)))
  }

  const setTopic = (index: number, topic: TopicDraft): void => edit({ topics: draft.topics.map((existing, i) => (i === index ? topic : existing)) })
  const setPair = (index: number, pair: MinedPairDraft): void => edit({ minedPairs: draft.minedPairs.map((existing, i) => (i === index ? pair : existing)) })
  /** Positions shift when a row goes, so what was touched no longer says which input it was. */
  const forgetTouched = (prefix: string): void => setTouched((previous) => new Set([...previous].filter((field) => !field.startsWith(prefix))))

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault()
    if (disabled || !validation.spec) return
    setSubmitting(true)
    setServerError(null)
    setCreatedNote(null)
    const watching = isWatchType(validation.spec.type)
    if (watching && !validation.watch) return
    const result = await onCreate({
      ...(validation.label === undefined ? {} : { label: validation.label }),
      spec: validation.spec,
      ...(watching && validation.watch ? { watch: validation.watch } : {}),
    })
    setSubmitting(false)
    if (result.ok) {
      setDraft(initialDraft(draft.type))
      setTouched(new Set())
      setCreatedNote(`Subscribed: ${result.value.label ?? result.value.type} (#${result.value.id})`)
      onCreated?.(result.value)
    } else {
      const path = pathFromServerField(result.error.field)
      setServerError({ field: fieldForPath(path, validation.minedRows), message: result.error.message })
    }
  }

  const labelMessages = messagesFor('label')

  return (
    <section className="panel subscription-form-panel" aria-labelledby="subscription-form-title">
      <div className="panel-header">
        <h2 id="subscription-form-title">New subscription</h2>
      </div>
      <form className="sub-form" data-testid="subscription-form" onSubmit={(event) => void submit(event)} noValidate>
        <div className="field">
          <label className="field-label" htmlFor={typeId}>
            Type
          </label>
          <select
            id={typeId}
            value={draft.type}
            aria-describedby={typeHintId}
            data-testid="subscription-type"
            onChange={(event) => edit({ type: event.target.value as SubscriptionType })}
          >
            {SUBSCRIPTION_TYPES.map((type) => (
              <option key={type} value={type}>
                {type} — {TYPE_DESCRIPTIONS[type]}
              </option>
            ))}
          </select>
          <span id={typeHintId} className="field-hint" data-testid="subscription-type-description">
            {TYPE_DESCRIPTIONS[draft.type]}
          </span>
        </div>

        <div className="field">
          <label className="field-label" htmlFor={labelId}>
            Label <span className="field-optional">(optional)</span>
          </label>
          <input
            id={labelId}
            type="text"
            value={draft.label}
            maxLength={100}
            placeholder="USDC transfers"
            autoComplete="off"
            aria-invalid={labelMessages.length > 0 ? true : undefined}
            aria-describedby={labelMessages.length > 0 ? labelErrorId : undefined}
            data-testid="subscription-label-input"
            onChange={(event) => edit({ label: event.target.value })}
            onBlur={() => touch('label')}
          />
          <FieldError id={labelErrorId} field="label" messages={labelMessages} />
        </div>

        {draft.type === 'logs' && (
          <>
            <AddressListField
              label="Addresses"
              hint="Contracts whose logs to deliver; empty means any address."
              value={draft.addresses}
              testId="subscription-addresses"
              field="addresses"
              messages={messagesFor('addresses')}
              onChange={(addresses) => edit({ addresses })}
              onBlur={() => touch('addresses')}
            />
            <div className="address-tools">
              <AddressChecks text={draft.addresses} testId="subscription-addresses" />
              <WatchlistAddressPick text={draft.addresses} onAdd={(address) => edit({ addresses: appendAddress(draft.addresses, address) })} />
            </div>
            <EventPicker picker={draft.eventPicker} messagesFor={messagesFor} onChange={(eventPicker) => edit({ eventPicker })} onBlur={touch} />
            <fieldset className="field-group" aria-labelledby={topicsTitleId} data-topic-source={picked ? 'event' : 'raw'}>
              <div className="field-group-header">
                <span id={topicsTitleId} className="field-label">
                  Topics
                </span>
                <span className="field-hint">
                  {picked
                    ? 'computed from the event above; “Edit as raw topics” to change them by hand'
                    : 'topic 0 is the event signature; later ones are indexed arguments'}
                </span>
              </div>
              {picked ? (
                <>
                  {picked.topics.length === 0 && <p className="field-hint">Any topics.</p>}
                  {topicsToRows(picked.topics).map((topic, index) => {
                    const arg = picked.event ? indexedArgs(picked.event).find((candidate) => candidate.position === index) : undefined
                    const caption =
                      index === 0 && picked.event && !picked.event.anonymous
                        ? `${picked.event.name} selector`
                        : arg
                          ? `${arg.name || arg.key} · ${arg.type}`
                          : undefined
                    return (
                      <TopicPositionRow
                        key={index}
                        index={index}
                        topic={topic}
                        readOnly
                        caption={caption}
                        messages={messagesFor(`topic-${index}`)}
                        onChange={() => undefined}
                        onBlur={() => undefined}
                        onRemove={() => undefined}
                      />
                    )
                  })}
                  <FieldError id={`${topicsTitleId}-error`} field="topics" messages={messagesFor('topics')} />
                  <button
                    type="button"
                    className="button button-small"
                    data-testid="event-topics-to-raw"
                    title="Copy these topics into editable rows and stop using the event"
                    onClick={() => {
                      edit({ topics: topicsToRows(picked.topics), eventPicker: { ...draft.eventPicker, source: 'none' } })
                      forgetTouched('topic-')
                    }}
                  >
                    Edit as raw topics
                  </button>
                </>
              ) : (
                <>
                  {draft.topics.length === 0 && <p className="field-hint">Any topics.</p>}
                  {draft.topics.map((topic, index) => (
                    <TopicPositionRow
                      key={index}
                      index={index}
                      topic={topic}
                      messages={messagesFor(`topic-${index}`)}
                      onChange={(next) => setTopic(index, next)}
                      onBlur={() => touch(`topic-${index}`)}
                      onRemove={() => {
                        edit({ topics: draft.topics.filter((_, i) => i !== index) })
                        forgetTouched('topic-')
                      }}
                    />
                  ))}
                  <FieldError id={`${topicsTitleId}-error`} field="topics" messages={messagesFor('topics')} />
                  <button
                    type="button"
                    className="button button-small"
                    data-testid="topic-add"
                    disabled={draft.topics.length >= MAX_TOPIC_POSITIONS}
                    title={draft.topics.length >= MAX_TOPIC_POSITIONS ? 'A log has at most 4 topics' : undefined}
                    onClick={() => edit({ topics: [...draft.topics, { mode: 'one', text: '' }] })}
                  >
                    Add topic position
                  </button>
                </>
              )}
            </fieldset>
          </>
        )}

        {draft.type === 'alchemy_filteredNewFullPendingTransactions' && (
          <>
            <AddressListField
              label="Addresses"
              required
              hint="Delivers pending transactions sent from or to any of these."
              value={draft.addresses}
              testId="subscription-addresses"
              field="addresses"
              messages={messagesFor('addresses')}
              onChange={(addresses) => edit({ addresses })}
              onBlur={() => touch('addresses')}
            />
            <div className="address-tools">
              <AddressChecks text={draft.addresses} testId="subscription-addresses" />
              <WatchlistAddressPick text={draft.addresses} onAdd={(address) => edit({ addresses: appendAddress(draft.addresses, address) })} />
            </div>
          </>
        )}

        {draft.type === 'alchemy_pendingTransactions' && (
          <>
            <AddressListField
              label="From addresses"
              hint="Senders to match; empty means any sender."
              value={draft.fromAddresses}
              testId="subscription-from-addresses"
              field="fromAddresses"
              messages={messagesFor('fromAddresses')}
              onChange={(fromAddresses) => edit({ fromAddresses })}
              onBlur={() => touch('fromAddresses')}
            />
            <AddressListField
              label="To addresses"
              hint="Recipients to match; empty means any recipient."
              value={draft.toAddresses}
              testId="subscription-to-addresses"
              field="toAddresses"
              messages={messagesFor('toAddresses')}
              onChange={(toAddresses) => edit({ toAddresses })}
              onBlur={() => touch('toAddresses')}
            />
          </>
        )}

        {draft.type === 'alchemy_minedTransactions' && (
          <fieldset className="field-group" aria-labelledby={pairsTitleId}>
            <div className="field-group-header">
              <span id={pairsTitleId} className="field-label">
                Address pairs
              </span>
              <span className="field-hint">an empty side matches any address; no pairs means every transaction</span>
            </div>
            {draft.minedPairs.map((pair, index) => (
              <MinedPairRow
                key={index}
                index={index}
                pair={pair}
                fromMessages={messagesFor(`mined-from-${index}`)}
                toMessages={messagesFor(`mined-to-${index}`)}
                onChange={(next) => setPair(index, next)}
                onBlur={(side) => touch(`mined-${side}-${index}`)}
                onRemove={() => {
                  edit({ minedPairs: draft.minedPairs.filter((_, i) => i !== index) })
                  forgetTouched('mined-')
                }}
              />
            ))}
            <FieldError id={`${pairsTitleId}-error`} field="mined" messages={messagesFor('mined')} />
            <button
              type="button"
              className="button button-small"
              data-testid="mined-add"
              onClick={() => edit({ minedPairs: [...draft.minedPairs, { from: '', to: '' }] })}
            >
              Add pair
            </button>
            <label className="check-field">
              <input
                type="checkbox"
                checked={draft.includeRemoved}
                data-testid="subscription-include-removed"
                onChange={(event) => edit({ includeRemoved: event.target.checked })}
              />
              Include removed transactions (dropped by a reorg)
            </label>
          </fieldset>
        )}

        {(draft.type === 'alchemy_pendingTransactions' || draft.type === 'alchemy_minedTransactions') && (
          <label className="check-field">
            <input
              type="checkbox"
              checked={draft.hashesOnly}
              data-testid="subscription-hashes-only"
              onChange={(event) => edit({ hashesOnly: event.target.checked })}
            />
            Hashes only (smaller payloads, no transaction bodies)
          </label>
        )}

        {(draft.type === 'newHeads' ||
          draft.type === 'newPendingTransactions' ||
          draft.type === 'alchemy_newFullPendingTransactions' ||
          draft.type === 'syncing') && (
          <p className="field-hint" data-testid="subscription-no-params">
            This type takes no parameters.
          </p>
        )}

        {isWatchType(draft.type) && (
          <WatchOptionsFields
            draft={draft}
            startBlockMessages={messagesFor('startBlock')}
            withProgressMessages={messagesFor('withProgress')}
            onChange={edit}
            onBlur={touch}
          />
        )}

        <div className="request-preview">
          <div className="request-preview-header">
            <span className="field-label">Request</span>
            {!valid && <span className="field-hint">not valid yet</span>}
            <span className="connection-top-spacer" />
            <CopyButton text={validation.preview} testId="subscription-preview-copy" />
          </div>
          <div className="request-preview-body" data-testid="subscription-preview" data-valid={valid}>
            <pre className={`mono${valid ? '' : ' is-invalid'}`}>{validation.preview}</pre>
          </div>
        </div>

        <div className="request-preview">
          <div className="request-preview-header">
            <span className="field-label">
              Try it with <span className="mono">wscat</span>
            </span>
            {!valid && <span className="field-hint">not valid yet</span>}
            <span className="connection-top-spacer" />
            <CopyButton text={wscat} testId="subscription-wscat-copy" />
          </div>
          <div className="request-preview-body" data-testid="subscription-wscat" data-valid={valid}>
            <pre className={`mono${valid ? '' : ' is-invalid'}`}>{wscat}</pre>
          </div>
          <span className="field-hint">
            Replace {WSCAT_URL_PLACEHOLDER} with the endpoint URL (with its key); add -w 3600 to keep listening for an hour instead of wscat’s few seconds.
          </span>
        </div>

        {validation.streamPreview !== null && (
          <div className="request-preview">
            <div className="request-preview-header">
              <span className="field-label">
                Same stream on <span className="mono">/v1/stream</span>
              </span>
              {!valid && <span className="field-hint">not valid yet</span>}
              <span className="connection-top-spacer" />
              <CopyButton text={validation.streamPreview} testId="stream-preview-copy" />
            </div>
            <div className="request-preview-body" data-testid="stream-preview" data-valid={valid}>
              <pre className={`mono${valid ? '' : ' is-invalid'}`}>{validation.streamPreview}</pre>
            </div>
          </div>
        )}

        {listed.length > 0 && (
          <ul id={generalErrorId} className="form-errors" role="alert" data-testid="subscription-error">
            {listed.map((message, index) => (
              <li key={index}>{message}</li>
            ))}
          </ul>
        )}
        {createdNote && (
          <p className="form-note" role="status" data-testid="subscription-created">
            {createdNote}
          </p>
        )}

        <button type="submit" className="button button-primary" disabled={disabled} title={blockedBy} data-testid="subscription-create-button">
          {submitting ? 'Subscribing…' : 'Subscribe'}
        </button>
      </form>
    </section>
  )
}
