/**
 * An event decoder prepared once per event signature, for exports and pages of millions of
 * rows: which parameters are indexed, where each one's 32-byte word is, and how to read it
 * are worked out here, not per row. Events whose parameters are all static words (address,
 * bool, uintN/intN, bytesN) decode by slicing the hex strings and formatting numbers with
 * BigInt; anything else (dynamic types, tuples, arrays, anonymous or unnamed events) is not
 * prepared, and the caller decodes it with viem's decodeEventLog as before.
 *
 * The result must equal `plain(decodeEventLog(…).args)` exactly (same values, same key
 * order: indexed arguments first, then the data's, as viem assigns them); `json` writes the
 * JSON text of that object straight from the hex, for exports, without building it. Events
 * with an argument named like an array index are not prepared (an object puts such keys
 * first, whatever order they were set in). Whenever a log
 * is not the plain case (a topic or the data of another length, a bool word other than 0
 * or 1, a small int outside the safe range, a character that is not hex) `decode` answers
 * FALLBACK and viem decides, so its errors and edge cases stay its own.
 */
import type { AbiEvent } from 'viem'
import { checksumAddressAt } from './address-checksum'

/** The log does not fit this event (viem would throw): try the next candidate. */
export const NO_MATCH = Symbol('no match')
/** Not the plain case: decode this log with viem. */
export const FALLBACK = Symbol('fallback')

export type PreparedResult = Record<string, unknown> | typeof NO_MATCH | typeof FALLBACK

type WordReader = (hex: string, start: number) => unknown

interface Slot {
  name: string
  /** Indexed: the topic's position (1…); else the word's position in the data (0…). */
  index: number
  indexed: boolean
  read: WordReader
}

export interface PreparedEvent {
  decode(topics: readonly string[], data: string | null): PreparedResult
  /** `JSON.stringify` of what `decode` gives, every quote written as `q` (a CSV cell doubles them). */
  json(topics: readonly string[], data: string | null, q: string): string | typeof NO_MATCH | typeof FALLBACK
}

const HEX_WORDS = /^0x[0-9a-fA-F]*$/
/** Names an object orders before the others (array indices). */
const INDEX_LIKE = /^(0|[1-9][0-9]*)$/
const TWO_256 = 1n << 256n
const INT_256_MAX = (1n << 255n) - 1n

function wordReader(type: string): WordReader | null {
  if (type === 'address') return (hex, start) => checksumAddressAt(hex, start + 24) ?? FALLBACK
  if (type === 'bool')
    return (hex, start) => {
      // Only 0 and 1 are booleans; viem throws on anything else.
      for (let i = start; i < start + 63; i++) if (hex.charCodeAt(i) !== 48) return FALLBACK
      const last = hex.charCodeAt(start + 63)
      return last === 48 ? false : last === 49 ? true : FALLBACK
    }
  const bytes = /^bytes([1-9]|[12][0-9]|3[0-2])$/.exec(type)
  if (bytes) {
    const length = Number(bytes[1]) * 2
    return (hex, start) => `0x${hex.slice(start, start + length).toLowerCase()}`
  }
  const integer = /^(u?)int(8|16|24|32|40|48|56|64|72|80|88|96|104|112|120|128|136|144|152|160|168|176|184|192|200|208|216|224|232|240|248|256)?$/.exec(type)
  if (integer) {
    const signed = integer[1] === ''
    const size = Number(integer[2] ?? '256')
    // As viem: the whole 32-byte word, two's complement over 256 bits when signed;
    // a number up to 48 bits, else a bigint (which crosses JSON as a decimal string).
    return (hex, start) => {
      let value = BigInt(`0x${hex.slice(start, start + 64)}`)
      if (signed && value > INT_256_MAX) value -= TWO_256
      if (size > 48) return value.toString()
      const number = Number(value)
      return Number.isSafeInteger(number) ? number : FALLBACK
    }
  }
  return null
}

/** A prepared decoder for `event`, or null when it is not made only of static words (viem decodes it). */
export function prepareEvent(event: AbiEvent): PreparedEvent | null {
  if (event.anonymous || event.inputs.length === 0) return null
  const names = new Set<string>()
  const slots: Slot[] = []
  let topicCount = 1
  let wordCount = 0
  for (const input of event.inputs) {
    const name = input.name
    if (!name || name === '__proto__' || INDEX_LIKE.test(name) || names.has(name)) return null
    names.add(name)
    const read = wordReader(input.type)
    if (!read) return null
    slots.push(input.indexed ? { name, index: topicCount++, indexed: true, read } : { name, index: wordCount++, indexed: false, read })
  }
  // viem sets the indexed arguments first, then the data's: keep its key order.
  const ordered = [...slots.filter((s) => s.indexed), ...slots.filter((s) => !s.indexed)]
  /** Each argument's `"name":` as JSON, for both quotes an export writes. */
  const keys = new Map(['"', '""'].map((q) => [q, ordered.map((slot, i) => `${i === 0 ? '{' : ','}${JSON.stringify(slot.name).replace(/"/g, q)}:`)]))
  const dataLength = 2 + 64 * wordCount
  /** NO_MATCH or FALLBACK when the log is not the plain case for this event; null when it is. */
  const unfit = (topics: readonly string[], data: string | null): typeof NO_MATCH | typeof FALLBACK | null => {
    // Too few topics, or no data for data arguments: viem throws (strict), so no match.
    if (topics.length < topicCount) return NO_MATCH
    if (wordCount > 0 && (data === null || data === '0x' || data === '')) return NO_MATCH
    if (topics.length !== topicCount) return FALLBACK
    if (wordCount > 0 && (data!.length !== dataLength || !HEX_WORDS.test(data!))) return FALLBACK
    for (let i = 1; i < topicCount; i++) {
      const topic = topics[i]!
      if (topic.length !== 66 || !HEX_WORDS.test(topic)) return FALLBACK
    }
    return null
  }
  const valueOf = (slot: Slot, topics: readonly string[], data: string | null): unknown =>
    slot.indexed ? slot.read(topics[slot.index]!, 2) : slot.read(data!, 2 + 64 * slot.index)
  return {
    decode(topics, data) {
      const refused = unfit(topics, data)
      if (refused) return refused
      const args: Record<string, unknown> = {}
      for (const slot of ordered) {
        const value = valueOf(slot, topics, data)
        if (value === FALLBACK) return FALLBACK
        args[slot.name] = value
      }
      return args
    },
    json(topics, data, q) {
      const refused = unfit(topics, data)
      if (refused) return refused
      const names = keys.get(q) ?? ordered.map((slot, i) => `${i === 0 ? '{' : ','}${JSON.stringify(slot.name).replace(/"/g, q)}:`)
      let out = ''
      for (let i = 0; i < ordered.length; i++) {
        const value = valueOf(ordered[i]!, topics, data)
        if (value === FALLBACK) return FALLBACK
        // Values are hex or decimal strings (nothing to escape), safe integers and booleans.
        out += names[i]! + (typeof value === 'string' ? q + value + q : String(value))
      }
      return `${out}}`
    },
  }
}
