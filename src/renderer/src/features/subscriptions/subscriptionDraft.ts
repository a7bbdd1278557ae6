/**
 * The subscription form's state as typed, turned into a `{type, params}` spec and checked
 * with the contract's own schema. Pure functions, so the form component only renders.
 */
import type { z } from 'zod'
import { commands, watchOptionsSchema, type WatchOptions } from '@shared/contract'
import { getAddress, isAddress, type AbiEvent } from 'viem'
import { ethSubscribeParams, subscriptionSpecSchema, type SubscriptionSpec, type SubscriptionType } from '@shared/subscription-params'
import { builtInEvent, computeEventTopics, findAbiEvent, parseAbiEvents, parseEventSignature, type ArgDraft, type Topic } from './eventTopics'

/** Short human descriptions shown next to each type in the picker. */
export const TYPE_DESCRIPTIONS: Record<SubscriptionType, string> = {
  newHeads: 'every new block header',
  logs: 'event logs matching an address and topic filter',
  newPendingTransactions: 'hashes of new pending transactions',
  alchemy_newFullPendingTransactions: 'full pending transactions (Alchemy)',
  alchemy_filteredNewFullPendingTransactions: 'full pending transactions touching given addresses (Alchemy, legacy)',
  alchemy_pendingTransactions: 'pending transactions filtered by sender / recipient (Alchemy)',
  alchemy_minedTransactions: 'mined transactions filtered by from / to pairs (Alchemy)',
  syncing: 'changes of the node’s sync status',
}

export const MAX_TOPIC_POSITIONS = 4

export const TOPIC_MODES = ['any', 'one', 'several'] as const
export type TopicMode = (typeof TOPIC_MODES)[number]

export interface TopicDraft {
  mode: TopicMode
  text: string
}

/** Where the event of a logs filter comes from; 'none' means the raw topic rows are used. */
export const EVENT_SOURCES = ['none', 'builtin', 'signature', 'abi', 'saved'] as const
export type EventSource = (typeof EVENT_SOURCES)[number]

/** The event picker as typed: every source keeps its text, `source` says which one is in use. */
export interface EventPickerDraft {
  source: EventSource
  /** Index into BUILT_IN_EVENTS. */
  builtin: number
  signature: string
  abi: string
  /** eventKey() of the chosen event of the pasted ABI; '' for its first event. */
  abiEvent: string
  /** The saved ABI in use and the chosen event's signature (with `indexed` where known). */
  savedId: number | null
  savedSignature: string
  /** Indexed argument values, by IndexedArg.key (kept across event changes, so from/to survive a switch). */
  args: Record<string, ArgDraft>
}

export function initialEventPicker(): EventPickerDraft {
  return { source: 'none', builtin: 0, signature: '', abi: '', abiEvent: '', savedId: null, savedSignature: '', args: {} }
}

export interface MinedPairDraft {
  from: string
  to: string
}

export interface SubscriptionDraft {
  type: SubscriptionType
  label: string
  /** logs and alchemy_filteredNewFullPendingTransactions: one per line or comma separated. */
  addresses: string
  /** The raw topic rows; kept while an event is picked, so switching back restores them. */
  topics: TopicDraft[]
  /** logs: topics built from an event and its indexed arguments instead of the raw rows. */
  eventPicker: EventPickerDraft
  fromAddresses: string
  toAddresses: string
  hashesOnly: boolean
  includeRemoved: boolean
  minedPairs: MinedPairDraft[]
  /** Watch options (logs and newHeads): kept while switching between the two. */
  startBlock: string
  fetch: boolean
  listen: boolean
  irreversibleOnly: boolean
  withProgress: string
}

/** The types that are watches: history from a start block, finality, progress, cursor. */
export const WATCH_TYPES = ['logs', 'newHeads'] as const
export type WatchType = (typeof WATCH_TYPES)[number]

export function isWatchType(type: SubscriptionType): type is WatchType {
  return type === 'logs' || type === 'newHeads'
}

export function initialDraft(type: SubscriptionType = 'newHeads'): SubscriptionDraft {
  return {
    type,
    label: '',
    addresses: '',
    topics: [],
    eventPicker: initialEventPicker(),
    fromAddresses: '',
    toAddresses: '',
    hashesOnly: false,
    includeRemoved: false,
    minedPairs: [{ from: '', to: '' }],
    startBlock: '',
    fetch: false,
    listen: true,
    irreversibleOnly: false,
    withProgress: '',
  }
}

/** Where an issue is shown: next to one input, or only in the form's message list. */
export type FieldKey =
  | 'general'
  | 'label'
  | 'addresses'
  | 'fromAddresses'
  | 'toAddresses'
  | 'topics'
  | 'mined'
  | 'startBlock'
  | 'withProgress'
  | `topic-${number}`
  | `mined-from-${number}`
  | `mined-to-${number}`
  | 'event'
  | `event-arg-${string}`

export interface FieldIssue {
  field: FieldKey
  message: string
}

export interface SpecInput {
  type: SubscriptionType
  params: Record<string, unknown>
}

export interface DraftValidation {
  /** The spec as built from the inputs, before the schema ran. */
  input: SpecInput
  /** The schema's output when valid (addresses and topics lowercased), else null. */
  spec: SubscriptionSpec | null
  /** The trimmed label, undefined when empty. */
  label: string | undefined
  issues: FieldIssue[]
  /** The exact `eth_subscribe` request, compact JSON. */
  preview: string
  /** Built pair index -> form row index (empty pairs are left out of the params). */
  minedRows: number[]
  /** Watch options as the contract parsed them; null for other types or while invalid. */
  watch: WatchOptions | null
  /** The equivalent `/v1/stream` request (PROTOCOL.md section 1), compact JSON; null for other types. */
  streamPreview: string | null
}

/** "a, b\nc" -> ["a", "b", "c"] */
export function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter((value) => value.length > 0)
}

/** One value as a plain string, several as an array, none left out. */
function oneOrMany(values: string[]): string | string[] | undefined {
  if (values.length === 0) return undefined
  return values.length === 1 ? values[0] : values
}

function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value
}

export interface ResolvedEvent {
  event: AbiEvent | null
  /** Why no event could be read from the source in use (null when one was, or when none is in use). */
  error: string | null
}

/** The event the picker's source in use describes. */
export function resolveEvent(picker: EventPickerDraft): ResolvedEvent {
  switch (picker.source) {
    case 'none':
      return { event: null, error: null }
    case 'builtin': {
      const event = builtInEvent(picker.builtin)
      return event ? { event, error: null } : { event: null, error: 'Choose an event from the list' }
    }
    case 'signature': {
      const parsed = parseEventSignature(picker.signature)
      return 'event' in parsed ? { event: parsed.event, error: null } : { event: null, error: parsed.error }
    }
    case 'abi': {
      const parsed = parseAbiEvents(picker.abi)
      if ('error' in parsed) return { event: null, error: parsed.error }
      const event = picker.abiEvent === '' ? parsed.events[0]! : findAbiEvent(parsed.events, picker.abiEvent)
      return event ? { event, error: null } : { event: null, error: 'Choose one of the ABI’s events' }
    }
    case 'saved': {
      if (picker.savedSignature === '') return { event: null, error: 'Choose a saved ABI’s event' }
      const parsed = parseEventSignature(picker.savedSignature)
      return 'event' in parsed ? { event: parsed.event, error: null } : { event: null, error: parsed.error }
    }
  }
}

/** Topics from the event picker: the computed topics and the per-field issues. */
export function eventPickerTopics(picker: EventPickerDraft): { event: AbiEvent | null; topics: Topic[]; issues: FieldIssue[] } {
  const resolved = resolveEvent(picker)
  if (!resolved.event) {
    return { event: null, topics: [], issues: resolved.error ? [{ field: 'event', message: resolved.error }] : [] }
  }
  const computed = computeEventTopics(resolved.event, picker.args)
  return {
    event: resolved.event,
    topics: computed.topics,
    issues: computed.issues.map((issue) => ({ field: `event-arg-${issue.key}` as const, message: issue.message })),
  }
}

/** Computed topics as (read-only) topic rows: null is "any", an OR list is "several". */
export function topicsToRows(topics: readonly Topic[]): TopicDraft[] {
  return topics.map((topic) =>
    topic === null ? { mode: 'any', text: '' } : typeof topic === 'string' ? { mode: 'one', text: topic } : { mode: 'several', text: topic.join('\n') },
  )
}

export function buildSpecInput(draft: SubscriptionDraft): { input: SpecInput; minedRows: number[]; issues: FieldIssue[] } {
  const params: Record<string, unknown> = {}
  const minedRows: number[] = []
  const issues: FieldIssue[] = []
  switch (draft.type) {
    case 'logs': {
      put(params, 'address', oneOrMany(splitList(draft.addresses)))
      let topics: unknown[]
      if (draft.eventPicker.source === 'none') {
        topics = draft.topics.map((topic) => {
          if (topic.mode === 'any') return null
          if (topic.mode === 'one') return topic.text.trim()
          return splitList(topic.text)
        })
      } else {
        const computed = eventPickerTopics(draft.eventPicker)
        topics = [...computed.topics]
        issues.push(...computed.issues)
      }
      // A trailing "any" says nothing; one in the middle keeps its position as null.
      while (topics.length > 0 && topics[topics.length - 1] === null) topics.pop()
      if (topics.length > 0) params.topics = topics
      break
    }
    case 'alchemy_filteredNewFullPendingTransactions':
      put(params, 'address', oneOrMany(splitList(draft.addresses)))
      break
    case 'alchemy_pendingTransactions':
      put(params, 'fromAddress', oneOrMany(splitList(draft.fromAddresses)))
      put(params, 'toAddress', oneOrMany(splitList(draft.toAddresses)))
      if (draft.hashesOnly) params.hashesOnly = true
      break
    case 'alchemy_minedTransactions': {
      const pairs: Record<string, string>[] = []
      draft.minedPairs.forEach((pair, row) => {
        const built: Record<string, string> = {}
        if (pair.from.trim()) built.from = pair.from.trim()
        if (pair.to.trim()) built.to = pair.to.trim()
        if (Object.keys(built).length === 0) return
        pairs.push(built)
        minedRows.push(row)
      })
      if (pairs.length > 0) params.addresses = pairs
      if (draft.includeRemoved) params.includeRemoved = true
      if (draft.hashesOnly) params.hashesOnly = true
      break
    }
    default:
      break
  }
  return { input: { type: draft.type, params }, minedRows, issues }
}

type Issue = z.ZodError['issues'][number]
type Path = readonly PropertyKey[]

function isRootTypeMismatch(issue: Issue): boolean {
  return issue.code === 'invalid_type' && issue.path.length === 0
}

/**
 * zod reports a failed `value | value[]` union as one "Invalid input" issue; take the
 * branch that got past the type check instead, which carries the contract's own message.
 */
function flattenIssue(issue: Issue, prefix: Path = []): { path: Path; message: string }[] {
  const path = [...prefix, ...issue.path]
  if (issue.code === 'invalid_union' && 'errors' in issue && Array.isArray(issue.errors)) {
    const branches = issue.errors as Issue[][]
    const informative = branches.find((branch) => branch.length > 0 && !branch.every(isRootTypeMismatch))
    if (informative) return informative.flatMap((inner) => flattenIssue(inner, path))
  }
  return [{ path, message: issue.message }]
}

function valueAt(root: unknown, path: Path): unknown {
  let current = root
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

/** A path below the spec (`params.topics.1`) to the input that shows its issue. */
export function fieldForPath(path: Path, minedRows: readonly number[] = []): FieldKey {
  const [root, key, index, sub] = path
  if (root === 'label') return 'label'
  if (root === 'watch') {
    if (key === 'startBlock') return 'startBlock'
    if (key === 'withProgress') return 'withProgress'
    return 'general'
  }
  if (root !== 'params') return 'general'
  switch (key) {
    case 'address':
      return 'addresses'
    case 'fromAddress':
      return 'fromAddresses'
    case 'toAddress':
      return 'toAddresses'
    case 'topics':
      return typeof index === 'number' ? `topic-${index}` : 'topics'
    case 'addresses': {
      if (typeof index !== 'number') return 'mined'
      const row = minedRows[index] ?? index
      return sub === 'to' ? `mined-to-${row}` : `mined-from-${row}`
    }
    default:
      return 'general'
  }
}

/** A CommandError's `field` ("spec.params.address.1") as a path below the spec. */
export function pathFromServerField(field: string | undefined): Path {
  if (!field) return []
  const parts: PropertyKey[] = field.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part))
  if (parts[0] === 'spec') parts.shift()
  return parts
}

/** Whether the path points at one value inside a list the person typed (so the value is worth quoting). */
function isInsideList(path: Path): boolean {
  const [, key] = path
  if (key === 'topics') return path.length > 3
  if (key === 'address' || key === 'fromAddress' || key === 'toAddress') return path.length > 2
  return false
}

function quote(value: string): string {
  return value.length > 24 ? `${value.slice(0, 12)}…${value.slice(-6)}` : value
}

function describe(input: SpecInput, path: Path, message: string, field: FieldKey): string {
  const value = valueAt(input, path)
  if (value === undefined && field === 'addresses') {
    return 'Enter at least one address: this type only delivers transactions touching them'
  }
  if (value === undefined) return `Required: ${message}`
  if (typeof value === 'string' && value !== '' && isInsideList(path)) return `${quote(value)}: ${message}`
  return message
}

/** The address lists the draft's type sends. */
function addressFields(draft: SubscriptionDraft): { field: FieldKey; text: string }[] {
  switch (draft.type) {
    case 'logs':
    case 'alchemy_filteredNewFullPendingTransactions':
      return [{ field: 'addresses', text: draft.addresses }]
    case 'alchemy_pendingTransactions':
      return [
        { field: 'fromAddresses', text: draft.fromAddresses },
        { field: 'toAddresses', text: draft.toAddresses },
      ]
    default:
      return []
  }
}

/**
 * A mixed-case address whose EIP-55 checksum does not match is almost certainly a typo: the
 * contract would accept it (it lowercases), so it is caught here. All-lowercase or all-uppercase
 * addresses carry no checksum and pass.
 */
function checksumIssues(draft: SubscriptionDraft): FieldIssue[] {
  const issues: FieldIssue[] = []
  for (const { field, text } of addressFields(draft)) {
    for (const value of splitList(text)) {
      if (!/^0x[0-9a-fA-F]{40}$/.test(value) || isAddress(value, { strict: true })) continue
      issues.push({
        field,
        message: `${quote(value)}: the mixed-case checksum does not match (a typo?); ${getAddress(value.toLowerCase())} is the checksummed form`,
      })
    }
  }
  return issues
}

export function validateDraft(draft: SubscriptionDraft): DraftValidation {
  const { input, minedRows, issues: builtIssues } = buildSpecInput(draft)
  const issues: FieldIssue[] = [...builtIssues]

  const parsed = subscriptionSpecSchema.safeParse(input)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const flat of flattenIssue(issue)) {
        const field = fieldForPath(flat.path, minedRows)
        issues.push({ field, message: describe(input, flat.path, flat.message, field) })
      }
    }
  }

  issues.push(...checksumIssues(draft))

  const trimmedLabel = draft.label.trim()
  const label = trimmedLabel === '' ? undefined : trimmedLabel
  const labelResult = commands['subscriptions.create'].request.shape.label.safeParse(label)
  if (!labelResult.success) {
    for (const issue of labelResult.error.issues) issues.push({ field: 'label', message: issue.message })
  }

  const spec = parsed.success ? parsed.data : null
  const request = {
    jsonrpc: '2.0',
    id: 1,
    method: 'eth_subscribe',
    params: ethSubscribeParams(spec ?? (input as SubscriptionSpec)),
  }

  let watch: WatchOptions | null = null
  let streamPreview: string | null = null
  if (isWatchType(draft.type)) {
    const built = buildWatchInput(draft)
    issues.push(...built.issues)
    const watchResult = watchOptionsSchema.safeParse(built.input)
    if (watchResult.success) {
      if (built.issues.length === 0) watch = watchResult.data
    } else {
      for (const issue of watchResult.error.issues) {
        const field = fieldForPath(['watch', ...issue.path])
        // A value the text check already explained is not reported twice.
        if (!built.issues.some((existing) => existing.field === field)) issues.push({ field, message: issue.message })
      }
    }
    streamPreview = JSON.stringify(streamRequest(draft.type, label, built.input, spec?.params ?? input.params))
  }

  return { input, spec, label, issues, preview: JSON.stringify(request), minedRows, watch, streamPreview }
}

/** Watch options as typed, before the contract's schema ran (numbers where the text reads as one). */
export interface WatchInput {
  startBlock?: number
  fetch: boolean
  listen: boolean
  irreversibleOnly: boolean
  withProgress?: number
}

/** "18,000,000", "18_000_000" and "18 000 000" read as 18000000; null when the text is not a number. */
function readNumber(text: string): number | null {
  const compact = text.replace(/[\s,_]/g, '')
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(compact)) return null
  const value = Number(compact)
  return Number.isFinite(value) ? value : null
}

export function buildWatchInput(draft: SubscriptionDraft): { input: WatchInput; issues: FieldIssue[] } {
  const issues: FieldIssue[] = []
  const input: WatchInput = {
    // Only newHeads has a snapshot to fetch; logs accept the flag and ignore it.
    fetch: draft.type === 'newHeads' && draft.fetch,
    listen: draft.listen,
    irreversibleOnly: draft.irreversibleOnly,
  }
  const startText = draft.startBlock.trim()
  if (startText !== '') {
    const value = readNumber(startText)
    if (value === null) {
      issues.push({ field: 'startBlock', message: 'Enter a whole block number such as 18000000, or a negative count such as -500' })
    } else if (!Number.isSafeInteger(value)) {
      issues.push({ field: 'startBlock', message: 'The start block must be a whole number (within ±9,007,199,254,740,991)' })
    } else {
      input.startBlock = value
    }
  }
  const progressText = draft.withProgress.trim()
  if (progressText !== '') {
    const value = readNumber(progressText)
    if (value === null || !Number.isInteger(value)) {
      issues.push({ field: 'withProgress', message: 'Enter a whole number of blocks such as 10, or leave it empty for no progress' })
    } else {
      input.withProgress = value
    }
  }
  return { input, issues }
}

/** The `/v1/stream` request with the same meaning, snake_case as PROTOCOL.md section 1 has it. */
export function streamRequest(type: WatchType, label: string | undefined, watch: WatchInput, params: Record<string, unknown>): Record<string, unknown> {
  const request: Record<string, unknown> = { type }
  // The label is the natural request id: it names the request on every answer.
  if (label !== undefined) request.req_id = label
  request.fetch = watch.fetch
  // Explicit: the stream endpoint's default is listen: false, the app's is true.
  request.listen = watch.listen
  if (watch.startBlock !== undefined) request.start_block = watch.startBlock
  request.irreversible_only = watch.irreversibleOnly
  if (watch.withProgress !== undefined) request.with_progress = watch.withProgress
  request.data = params
  return request
}

/** The name of a field in the form's message list. */
export function fieldLabel(field: FieldKey): string | null {
  switch (field) {
    case 'general':
      return null
    case 'label':
      return 'Label'
    case 'addresses':
      return 'Addresses'
    case 'fromAddresses':
      return 'From'
    case 'toAddresses':
      return 'To'
    case 'topics':
      return 'Topics'
    case 'mined':
      return 'Address pairs'
    case 'startBlock':
      return 'Start block'
    case 'withProgress':
      return 'Progress every'
    case 'event':
      return 'Event'
  }
  const argument = /^event-arg-(.+)$/.exec(field)
  if (argument) return `Argument ${argument[1]}`
  const topic = /^topic-(\d+)$/.exec(field)
  if (topic) return `Topic ${topic[1]}`
  const mined = /^mined-(from|to)-(\d+)$/.exec(field)
  if (mined) return `Pair ${Number(mined[2]) + 1} ${mined[1]}`
  return null
}

/** Whether the person has put something into the input behind a field (then its issues show at once). */
export function isFieldFilled(draft: SubscriptionDraft, field: FieldKey): boolean {
  switch (field) {
    case 'general':
    case 'topics':
    case 'mined':
      return true
    case 'label':
      return draft.label.trim() !== ''
    case 'addresses':
      return draft.addresses.trim() !== ''
    case 'fromAddresses':
      return draft.fromAddresses.trim() !== ''
    case 'toAddresses':
      return draft.toAddresses.trim() !== ''
    case 'startBlock':
      return draft.startBlock.trim() !== ''
    case 'withProgress':
      return draft.withProgress.trim() !== ''
    case 'event':
      return true
  }
  const argument = /^event-arg-(.+)$/.exec(field)
  if (argument) return (draft.eventPicker.args[argument[1]!]?.text.trim() ?? '') !== ''
  const topic = /^topic-(\d+)$/.exec(field)
  if (topic) return (draft.topics[Number(topic[1])]?.text.trim() ?? '') !== ''
  const mined = /^mined-(from|to)-(\d+)$/.exec(field)
  if (mined) {
    const pair = draft.minedPairs[Number(mined[2])]
    return ((mined[1] === 'from' ? pair?.from : pair?.to) ?? '').trim() !== ''
  }
  return true
}
