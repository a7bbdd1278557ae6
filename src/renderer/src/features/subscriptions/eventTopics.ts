/**
 * The event picker's pure side: an event chosen from the built-in catalog, a pasted signature or
 * a pasted ABI, and the topics of a logs filter computed from its indexed arguments. Every topic
 * is encoded by viem itself (`encodeEventTopics`), so the filter matches what contracts emit.
 */
import {
  type BaseError,
  encodeEventTopics,
  getAbiItem,
  getAddress,
  isAddress,
  parseAbi,
  parseAbiItem,
  toEventSelector,
  type Abi,
  type AbiEvent,
  type AbiParameter,
  type Hex,
} from 'viem'
import { BUILT_IN_EVENTS } from '@shared/event-catalog'

export const ARG_MODES = ['any', 'one', 'several'] as const
export type ArgMode = (typeof ARG_MODES)[number]

/** One indexed argument as typed: match anything, one value, or any of several. */
export interface ArgDraft {
  mode: ArgMode
  text: string
}

/** An indexed argument of the chosen event, with the topic position it lands on. */
export interface IndexedArg {
  /** The argument's name, or `arg<N>` (N its place among all inputs) when the signature has none; also the test-id suffix. */
  key: string
  /** The name as declared ('' when unnamed). */
  name: string
  type: string
  /** Topic position: 1.. for a normal event, 0.. for an anonymous one. */
  position: number
  /** Index among the indexed inputs (what encodeEventTopics takes positionally). */
  indexedIndex: number
  /** Strings and bytes are stored as their keccak hash. */
  hashed: boolean
  /** Arrays and tuples cannot be filtered here (viem refuses to encode them as topics). */
  filterable: boolean
}

export type Topic = Hex | Hex[] | null

export interface ArgIssue {
  key: string
  message: string
}

export interface EventTopicsResult {
  /** The `topics` of the logs filter, trailing "any" positions dropped. */
  topics: Topic[]
  issues: ArgIssue[]
}

/** A parse failure as a person can act on it: the short message plus its details, without version and docs lines. */
export function describeParseError(error: unknown): string {
  // viem's and abitype's errors (two BaseError classes) both carry shortMessage and metaMessages.
  const described = error as Partial<Pick<BaseError, 'shortMessage' | 'metaMessages'>> | null
  if (error instanceof Error && typeof described?.shortMessage === 'string') {
    const { shortMessage, metaMessages } = described as Pick<BaseError, 'shortMessage' | 'metaMessages'>
    const details = (metaMessages ?? []).map((line) => line.trim()).filter((line) => line !== '' && !/^(Version|Docs|Details):/.test(line))
    const base = shortMessage.replace(/\.$/, '')
    if (base === 'Unknown signature') {
      return 'Not a readable event signature: expected e.g. Transfer(address indexed from, address indexed to, uint256 value) — check the parentheses, commas and types'
    }
    return details.length > 0 ? `${base}: ${details.join(' ')}` : base
  }
  if (error instanceof Error) return error.message.split('\n\n')[0] ?? error.message
  return String(error)
}

/** "Transfer(address indexed,address indexed,uint256)" or "event Transfer(address indexed from, ...)" to an ABI event. */
export function parseEventSignature(text: string): { event: AbiEvent } | { error: string } {
  let signature = text.trim().replace(/;\s*$/, '').replace(/\s+/g, ' ')
  if (signature === '') return { error: 'Paste an event signature such as Transfer(address indexed from, address indexed to, uint256 value)' }
  if (/^(function|error|constructor|fallback|receive|struct)\b/.test(signature)) {
    return { error: 'That is not an event: paste an event signature (event Name(type indexed name, …))' }
  }
  if (!/^event\s/.test(signature)) signature = `event ${signature}`
  try {
    const item = parseAbiItem(signature) as unknown as { type: string }
    if (item.type !== 'event') return { error: 'That is not an event signature' }
    return { event: item as AbiEvent }
  } catch (error) {
    return { error: describeParseError(error) }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isAbiEvent(value: unknown): value is AbiEvent {
  return (
    isRecord(value) &&
    value.type === 'event' &&
    typeof value.name === 'string' &&
    Array.isArray(value.inputs) &&
    value.inputs.every((input) => isRecord(input) && typeof input.type === 'string')
  )
}

/**
 * The events of a pasted ABI: a JSON ABI array, a compiler artifact with an `abi` field, or
 * human-readable lines (`event Transfer(...)`, one per line, as viem's parseAbi takes them).
 */
export function parseAbiEvents(text: string): { events: AbiEvent[] } | { error: string } {
  const trimmed = text.trim()
  if (trimmed === '') return { error: 'Paste a JSON ABI (an array of entries) or event signatures, one per line' }
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown
    try {
      json = JSON.parse(trimmed)
    } catch (error) {
      return { error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` }
    }
    const abi: unknown = isRecord(json) && Array.isArray(json.abi) ? json.abi : json
    if (!Array.isArray(abi)) return { error: 'A JSON ABI is an array of entries (or an artifact with an "abi" array)' }
    if (abi.every((entry) => typeof entry === 'string')) return parseHumanReadable(abi)
    const events = abi.filter(isAbiEvent)
    if (events.length === 0) {
      return { error: `This ABI has ${abi.length} entr${abi.length === 1 ? 'y' : 'ies'} but no events (entries with "type": "event")` }
    }
    for (const event of events) {
      try {
        toEventSelector(event)
      } catch (error) {
        return { error: `Event ${event.name}: ${describeParseError(error)}` }
      }
    }
    return { events }
  }
  return parseHumanReadable(trimmed.split(/\r?\n/))
}

function parseHumanReadable(lines: readonly string[]): { events: AbiEvent[] } | { error: string } {
  const signatures = lines
    .map((line) => line.trim().replace(/;\s*$/, ''))
    .filter((line) => line !== '' && !line.startsWith('//'))
    .map((line) => (/^(event|function|error|constructor|fallback|receive|struct)\b/.test(line) ? line : `event ${line}`))
  if (signatures.length === 0) return { error: 'Paste a JSON ABI or event signatures, one per line' }
  try {
    const abi = parseAbi(signatures)
    const events = abi.filter((item): item is AbiEvent => item.type === 'event')
    if (events.length === 0) return { error: 'These lines define no events' }
    return { events }
  } catch (error) {
    return { error: describeParseError(error) }
  }
}

/** An event by name from an ABI (viem getAbiItem), or by its full signature when the name is overloaded. */
export function findAbiEvent(events: readonly AbiEvent[], key: string): AbiEvent | null {
  const bySignature = events.find((event) => eventKey(event) === key)
  if (bySignature) return bySignature
  const item = getAbiItem({ abi: events, name: key }) as unknown
  return isAbiEvent(item) ? item : null
}

/** A stable key of an event inside an ABI: its canonical signature. */
export function eventKey(event: AbiEvent): string {
  return `${event.name}(${event.inputs.map(canonicalType).join(',')})`
}

function canonicalType(param: AbiParameter): string {
  if (param.type.startsWith('tuple') && 'components' in param) {
    return `(${param.components.map(canonicalType).join(',')})${param.type.slice('tuple'.length)}`
  }
  return param.type
}

/** "event Transfer(address indexed from, address indexed to, uint256 value)", readable and parseable again. */
export function formatEvent(event: AbiEvent): string {
  const params = event.inputs
    .map((input) => [canonicalType(input), input.indexed ? 'indexed' : '', input.name ?? ''].filter((part) => part !== '').join(' '))
    .join(', ')
  return `event ${event.name}(${params})${event.anonymous ? ' anonymous' : ''}`
}

/** topic 0 of the event: keccak256 of its canonical signature. */
export function eventSelector(event: AbiEvent): Hex {
  return toEventSelector(event)
}

/** The built-in catalog, parsed (the catalog is constant, so this cannot fail at run time). */
export function builtInEvent(index: number): AbiEvent | null {
  const entry = BUILT_IN_EVENTS[index]
  if (!entry) return null
  const parsed = parseEventSignature(entry.signature)
  return 'event' in parsed ? parsed.event : null
}

/** The indexed arguments of an event, each with its topic position. */
export function indexedArgs(event: AbiEvent): IndexedArg[] {
  const offset = event.anonymous ? 0 : 1
  const args: IndexedArg[] = []
  event.inputs.forEach((input, inputIndex) => {
    if (!input.indexed) return
    const indexedIndex = args.length
    const name = input.name ?? ''
    args.push({
      key: name !== '' && !args.some((arg) => arg.key === name) ? name : `arg${inputIndex}`,
      name,
      type: input.type,
      position: offset + indexedIndex,
      indexedIndex,
      hashed: input.type === 'string' || input.type === 'bytes',
      filterable: !input.type.startsWith('tuple') && !/\[\d*\]$/.test(input.type),
    })
  })
  return args
}

const INT_TYPE = /^(u?)int(\d*)$/
const FIXED_BYTES = /^bytes(\d+)$/

/** One typed value read as the ABI type wants it, or why it cannot be. */
export function parseArgValue(type: string, raw: string): { value: unknown } | { error: string } {
  const text = type === 'string' ? raw : raw.trim()
  if (type === 'address') {
    if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return { error: `${quote(text)} is not an address: expected 0x followed by 40 hex digits` }
    if (!isAddress(text, { strict: true })) {
      return { error: `${quote(text)}: the mixed-case checksum does not match (a typo?); ${getAddress(text.toLowerCase())} is the checksummed form` }
    }
    return { value: getAddress(text) }
  }
  const integer = INT_TYPE.exec(type)
  if (integer) {
    const signed = integer[1] === ''
    const bits = integer[2] === '' ? 256 : Number(integer[2])
    const compact = text.replace(/[_,\s]/g, '')
    let value: bigint
    if (/^-?\d+$/.test(compact)) value = BigInt(compact)
    else if (/^0x[0-9a-fA-F]+$/.test(compact)) value = BigInt(compact)
    else return { error: `${quote(text)} is not a whole number: enter decimal digits (e.g. 1000000) or 0x hex` }
    const min = signed ? -(1n << BigInt(bits - 1)) : 0n
    const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n
    if (value < min || value > max) {
      return { error: `${quote(text)} is out of range for ${type} (${signed ? `${min} to ${max}` : `0 to 2^${bits}-1`})` }
    }
    return { value }
  }
  if (type === 'bool') {
    const lower = text.toLowerCase()
    if (lower === 'true' || lower === '1') return { value: true }
    if (lower === 'false' || lower === '0') return { value: false }
    return { error: `${quote(text)} is not a bool: enter true or false` }
  }
  const fixed = FIXED_BYTES.exec(type)
  if (fixed) {
    const size = Number(fixed[1])
    if (!new RegExp(`^0x[0-9a-fA-F]{${size * 2}}$`).test(text)) {
      return { error: `${quote(text)} is not a ${type}: expected 0x followed by ${size * 2} hex digits` }
    }
    return { value: text.toLowerCase() }
  }
  if (type === 'bytes') {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(text)) return { error: `${quote(text)} is not bytes: expected 0x followed by an even number of hex digits` }
    return { value: text }
  }
  if (type === 'string') return { value: text }
  return { error: `Values of type ${type} cannot be filtered here` }
}

function quote(value: string): string {
  const shown = value.length > 24 ? `${value.slice(0, 12)}…${value.slice(-6)}` : value
  return `"${shown}"`
}

/** The values of a "several" field: one per line for strings (which may contain commas), else comma or newline separated. */
export function splitArgValues(type: string, text: string): string[] {
  if (type === 'string') return text.split(/\r?\n/).filter((line) => line !== '')
  return text.split(/[\s,]+/).filter((value) => value !== '')
}

/** One value encoded as its topic, by viem (strings and bytes hashed, the rest ABI-encoded to 32 bytes). */
export function encodeArgTopic(event: AbiEvent, arg: IndexedArg, value: unknown): Hex {
  const args: unknown[] = indexedArgs(event).map(() => null)
  args[arg.indexedIndex] = value
  const topics = encodeEventTopics({ abi: [event] as Abi, args } as unknown as Parameters<typeof encodeEventTopics>[0]) as Topic[]
  const topic = topics[arg.position]
  if (typeof topic !== 'string') throw new Error(`viem did not encode topic ${arg.position}`)
  return topic
}

/**
 * The topics of a logs filter for an event and its indexed arguments as typed: topic 0 the
 * selector (none for an anonymous event), then per argument null (any), one topic, or an OR
 * list; trailing nulls dropped. Invalid values are reported and left out of the result.
 */
export function computeEventTopics(event: AbiEvent, drafts: Readonly<Record<string, ArgDraft>>): EventTopicsResult {
  const issues: ArgIssue[] = []
  const topics: Topic[] = event.anonymous ? [] : [eventSelector(event)]
  for (const arg of indexedArgs(event)) {
    const draft = drafts[arg.key] ?? { mode: 'any', text: '' }
    let topic: Topic = null
    if (draft.mode !== 'any' && arg.filterable) {
      const texts =
        draft.mode === 'one' ? [arg.type === 'string' ? draft.text : draft.text.trim()].filter((text) => text !== '') : splitArgValues(arg.type, draft.text)
      const encoded: Hex[] = []
      if (texts.length === 0) {
        issues.push({
          key: arg.key,
          message: `Enter ${draft.mode === 'one' ? 'a' : 'at least one'} ${arg.type} value, or choose "any"`,
        })
      }
      for (const text of texts) {
        const parsed = parseArgValue(arg.type, text)
        if ('error' in parsed) {
          issues.push({ key: arg.key, message: parsed.error })
          continue
        }
        try {
          const value = encodeArgTopic(event, arg, parsed.value)
          if (!encoded.includes(value)) encoded.push(value)
        } catch (error) {
          issues.push({ key: arg.key, message: describeParseError(error) })
        }
      }
      if (encoded.length > 0) topic = draft.mode === 'one' ? encoded[0]! : encoded
    }
    topics.push(topic)
  }
  while (topics.length > 0 && topics[topics.length - 1] === null) topics.pop()
  return { topics, issues }
}

/** A human hint for an argument's input. */
export function argPlaceholder(arg: IndexedArg, mode: ArgMode): string {
  if (!arg.filterable) return 'arrays and tuples match any value here'
  if (mode === 'any') return 'any value'
  const one =
    arg.type === 'address'
      ? '0x… (20-byte address)'
      : INT_TYPE.test(arg.type)
        ? 'decimal or 0x hex'
        : arg.type === 'bool'
          ? 'true or false'
          : FIXED_BYTES.test(arg.type)
            ? `0x… (${FIXED_BYTES.exec(arg.type)![1]} bytes)`
            : arg.type === 'string'
              ? 'text (matched by its keccak hash)'
              : arg.type === 'bytes'
                ? '0x… (matched by its keccak hash)'
                : arg.type
  if (mode === 'one') return one
  return arg.type === 'string' ? `${one}, one per line` : `${one}, comma or newline separated`
}
