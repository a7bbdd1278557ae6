/**
 * A log's raw JSON-RPC object, stored beside the typed columns that hold most of it. The
 * object as received costs as much again as its columns, so it is stored as a JSON array in
 * the raw object's key order: a field the columns rebuild exactly is its one-letter code, any
 * other field (blockTimestamp, `removed`, a checksummed address, fields nobody has named yet)
 * is kept as [name, value]. An array, so it stays valid JSON and cannot be taken for a raw
 * object stored whole (rows from before, which decode as they are).
 */
import type { ChainLog } from './chain-store'

/** The typed columns of a stored log (lowercase hashes and address, numbers). */
export interface LogColumns {
  address: string | null
  topics: string[]
  data: string | null
  blockNumber: number | null
  blockHash: string | null
  transactionHash: string | null
  transactionIndex: number | null
  logIndex: number | null
  /** Rebuilt as false when absent (a chain log as received is not removed). */
  removed?: boolean
}

const FIELDS = {
  a: 'address',
  t: 'topics',
  d: 'data',
  n: 'blockNumber',
  h: 'blockHash',
  x: 'transactionHash',
  i: 'transactionIndex',
  l: 'logIndex',
} as const
type Code = keyof typeof FIELDS

const hex = (n: number | null): string | null => (n === null ? null : `0x${n.toString(16)}`)

/** The field's value as the columns rebuild it. */
function rebuilt(columns: LogColumns, code: Code): unknown {
  switch (code) {
    case 'a':
      return columns.address
    case 't':
      return columns.topics
    case 'd':
      return columns.data
    case 'n':
      return hex(columns.blockNumber)
    case 'h':
      return columns.blockHash
    case 'x':
      return columns.transactionHash
    case 'i':
      return hex(columns.transactionIndex)
    case 'l':
      return hex(columns.logIndex)
  }
}

const CODES = new Map<string, Code>(Object.entries(FIELDS).map(([code, field]) => [field, code as Code]))

function sameTopics(value: unknown, topics: string[]): boolean {
  if (!Array.isArray(value) || value.length !== topics.length) return false
  for (let i = 0; i < topics.length; i++) if (value[i] !== topics[i]) return false
  return true
}

/** The stored text of a raw log: codes where the columns hold the value exactly. */
export function encodeRawLog(columns: LogColumns, raw: unknown): string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return JSON.stringify(raw)
  let out = '['
  let first = true
  for (const field in raw) {
    const value = (raw as Record<string, unknown>)[field]
    if (value === undefined) continue
    const code = CODES.get(field)
    const same = code !== undefined && (code === 't' ? sameTopics(value, columns.topics) : value === rebuilt(columns, code))
    out += (first ? '' : ',') + (same ? `"${code}"` : JSON.stringify([field, value]))
    first = false
  }
  return `${out}]`
}

/** The raw log object back from its stored text (NULL: a row from before raw logs were kept, rebuilt from the columns). */
export function decodeRawLog(stored: string | null, columns: LogColumns): unknown {
  if (stored === null) return rebuiltRawLog(columns)
  const parsed = JSON.parse(stored) as unknown
  if (!Array.isArray(parsed)) return parsed
  // `removed` is kept literally, so a later retraction does not rewrite the raw object.
  const raw: Record<string, unknown> = {}
  for (const entry of parsed as (string | [string, unknown])[]) {
    if (typeof entry === 'string') raw[FIELDS[entry as Code]] = rebuilt(columns, entry as Code)
    // A field named __proto__ stays a field, as JSON.parse would keep it.
    else Object.defineProperty(raw, entry[0], { value: entry[1], enumerable: true, writable: true, configurable: true })
  }
  return raw
}

/** Rows stored before logs kept their raw object: the JSON-RPC log rebuilt from the columns. */
export function rebuiltRawLog(columns: LogColumns): Record<string, unknown> {
  return {
    address: columns.address,
    topics: columns.topics,
    data: columns.data,
    blockNumber: hex(columns.blockNumber),
    blockHash: columns.blockHash,
    transactionHash: columns.transactionHash,
    transactionIndex: hex(columns.transactionIndex),
    logIndex: hex(columns.logIndex),
    removed: columns.removed ?? false,
  }
}

/** A string as JSON text (its quotes written as `q`): hex and plain words as they are, anything else through JSON.stringify. */
export function jsonText(value: string | null, q = '"'): string {
  return value === null ? 'null' : PLAIN.test(value) ? q + value + q : withQuotes(JSON.stringify(value), q)
}
const PLAIN = /^[0-9A-Za-z_.:-]*$/
const withQuotes = (json: string, q: string): string => (q === '"' ? json : json.replace(/"/g, q))

/** Each coded field's JSON text as the columns rebuild it, quotes written as the caller asks. */
export type LogTexts = Record<Code, string>

/** The JSON texts of a log's columns (`q`: how each quote is written). */
export function logTexts(columns: LogColumns, q = '"'): LogTexts {
  let topics = '['
  for (let i = 0; i < columns.topics.length; i++) topics += (i === 0 ? '' : ',') + jsonText(columns.topics[i]!, q)
  return {
    a: jsonText(columns.address, q),
    t: `${topics}]`,
    d: jsonText(columns.data, q),
    n: jsonText(hex(columns.blockNumber), q),
    h: jsonText(columns.blockHash, q),
    x: jsonText(columns.transactionHash, q),
    i: jsonText(hex(columns.transactionIndex), q),
    l: jsonText(hex(columns.logIndex), q),
  }
}

/**
 * The raw log object's JSON text straight from its stored text, without building the object:
 * `JSON.stringify(decodeRawLog(stored, columns))`, for exports of millions of rows. `q`
 * writes every quote of the text as given (a CSV cell doubles them), so no pass over the
 * text is needed afterwards.
 */
export function rawLogJson(stored: string | null, columns: LogColumns, q = '"'): string {
  if (stored === null) return withQuotes(JSON.stringify(rebuiltRawLog(columns)), q)
  // Stored whole (rows from before, or a raw value that is not an object): JSON.stringify's own text.
  if (stored.charCodeAt(0) !== 91 /* [ */) return withQuotes(stored, q)
  return storedRawLogJson(stored, logTexts(columns, q), q)
}

/**
 * `rawLogJson` of a log stored as an array (its text starts with `[`), the columns' JSON
 * texts given. The array is read without JSON.parse: a code is its field's text, and a kept
 * field `[name,value]` is copied as `name:value`, its text being JSON.stringify's already
 * (what parsing and writing it again gives). Anything else goes through JSON.parse.
 */
export function storedRawLogJson(stored: string, texts: LogTexts, q = '"'): string {
  let out = '{'
  let i = 1
  const end = stored.length - 1
  while (i < end) {
    const c = stored.charCodeAt(i)
    if (c === 34 /* " */ && stored.charCodeAt(i + 2) === 34) {
      const code = stored[i + 1] as Code
      const field = FIELDS[code] as string | undefined
      if (field === undefined) return parsedRawLogJson(stored, texts, q)
      out += (i === 1 ? '' : ',') + q + field + q + ':' + texts[code]
      i += 3
    } else if (c === 91 /* [ */) {
      const nameEnd = stringEnd(stored, i + 1)
      const close = nameEnd < 0 || stored.charCodeAt(nameEnd + 1) !== 44 /* , */ ? -1 : valueEnd(stored, nameEnd + 2)
      if (close < 0 || stored.charCodeAt(close) !== 93 /* ] */) return parsedRawLogJson(stored, texts, q)
      const field = `${stored.slice(i + 1, nameEnd + 1)}:${stored.slice(nameEnd + 2, close)}`
      out += (i === 1 ? '' : ',') + (q === '"' ? field : field.replace(/"/g, q))
      i = close + 1
    } else return parsedRawLogJson(stored, texts, q)
    if (i < end) {
      if (stored.charCodeAt(i) !== 44 /* , */) return parsedRawLogJson(stored, texts, q)
      i += 1
    }
  }
  return `${out}}`
}

/** Where the JSON string starting at `start` (its opening quote) ends (its closing quote); -1 if it does not. */
function stringEnd(text: string, start: number): number {
  if (text.charCodeAt(start) !== 34) return -1
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 92 /* \ */) i += 1
    else if (c === 34) return i
  }
  return -1
}

/** Where the JSON value starting at `start` ends: the index just after it (-1 if it is cut short). */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start)
  if (first === 34 /* " */) {
    const end = stringEnd(text, start)
    return end < 0 ? -1 : end + 1
  }
  if (first === 91 || first === 123 /* [ { */) {
    let depth = 0
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === 34) {
        i = stringEnd(text, i)
        if (i < 0) return -1
      } else if (c === 91 || c === 123) depth += 1
      else if ((c === 93 || c === 125) && --depth === 0) return i + 1
    }
    return -1
  }
  // A number, true, false or null: up to the next `,`, `]` or `}`.
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 44 || c === 93 || c === 125) return i > start ? i : -1
  }
  return -1
}

/** `storedRawLogJson` through JSON.parse, for a stored text the reader above does not take. */
function parsedRawLogJson(stored: string, texts: LogTexts, q: string): string {
  const entries = JSON.parse(stored) as (string | [string, unknown])[]
  let out = '{'
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    if (i > 0) out += ','
    out +=
      typeof entry === 'string'
        ? q + FIELDS[entry as Code] + q + ':' + texts[entry as Code]
        : withQuotes(`${JSON.stringify(entry[0])}:${JSON.stringify(entry[1])}`, q)
  }
  return `${out}}`
}

/** A chain_logs row's columns, as either backend reads them. */
export interface ChainLogRow {
  block_hash: string
  block_number: number
  log_index: number
  tx_hash: string
  tx_index: number
  address: string
  topics: string
  data: string
  raw_json: string | null
}

/** The domain log back from its chain_logs row: the columns, and the raw object as received. */
export function chainLogFromRow(row: ChainLogRow): ChainLog {
  const log = {
    blockHash: row.block_hash,
    blockNumber: row.block_number,
    logIndex: row.log_index,
    transactionHash: row.tx_hash,
    transactionIndex: row.tx_index,
    address: row.address,
    topics: row.topics ? row.topics.split(',') : [],
    data: row.data,
  }
  return { ...log, raw: decodeRawLog(row.raw_json, log) as Record<string, unknown> }
}
