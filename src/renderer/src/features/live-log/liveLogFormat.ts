/** How the live log puts an event in one line, and its decoded arguments in a table. */
import type { CapturedEvent, DecodedEvent } from '@shared/contract'
import { formatGwei, formatNativeAmount, shortHash } from '../../ui/format'

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

export const isAddress = (value: unknown): value is string => typeof value === 'string' && ADDRESS.test(value)

const pad = (value: number): string => String(value).padStart(2, '0')

// Formatters are built once: Date#toLocaleString and BigInt#toLocaleString build one per
// call, which costs more than the rest of a row put together.
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium', hour12: false })
const integerFormat = new Intl.NumberFormat('en-US')

/** Local date and time for a title: "2 Jan 2024, 03:04:05". */
export function formatDateTime(timestampMs: number): string {
  return dateTimeFormat.format(timestampMs)
}

/** Local wall-clock time, "14:03:09" whatever the locale. */
export function formatClock(timestampMs: number): string {
  const date = new Date(timestampMs)
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

/** "Transfer(address,address,uint256)" -> ["address", "address", "uint256"]; tuples stay whole. */
export function signatureTypes(signature: string): string[] {
  const open = signature.indexOf('(')
  const close = signature.lastIndexOf(')')
  if (open < 0 || close <= open) return []
  const inner = signature.slice(open + 1, close)
  if (inner.trim() === '') return []
  const types: string[] = []
  let depth = 0
  let start = 0
  for (let index = 0; index < inner.length; index += 1) {
    const char = inner[index]
    if (char === '(') depth += 1
    else if (char === ')') depth -= 1
    else if (char === ',' && depth === 0) {
      types.push(inner.slice(start, index).trim())
      start = index + 1
    }
  }
  types.push(inner.slice(start).trim())
  return types
}

export interface DecodedArg {
  name: string
  /** The Solidity type when the signature gives one for this position. */
  type: string | null
  value: unknown
}

/** Arguments in declaration order with their types (the signature lists them in the same order). */
export function decodedArgs(decoded: DecodedEvent): DecodedArg[] {
  const entries = Object.entries(decoded.args)
  const types = signatureTypes(decoded.signature)
  const typed = types.length === entries.length
  return entries.map(([name, value], index) => ({ name, type: typed ? (types[index] ?? null) : null, value }))
}

/** A value as text: strings as given (big numbers arrive as decimal strings), the rest as JSON. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (value === null || value === undefined) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

const SHORT_VALUE = 28

/** A value for a one-line summary: long hex shortened, long text cut. */
export function compactValue(value: unknown): string {
  const text = valueText(value)
  if (/^0x[0-9a-fA-F]{20,}$/.test(text)) return shortHash(text)
  return text.length > SHORT_VALUE ? `${text.slice(0, SHORT_VALUE - 1)}…` : text
}

export type SummaryPart =
  | { kind: 'address'; address: string }
  /** An amount of an ERC-20 (the log's contract), shown with the token's symbol and decimals once known. */
  | { kind: 'amount'; raw: string; connectionId: number; token: string }
  | { kind: 'text'; text: string; title?: string }
  | { kind: 'label'; text: string }

const MAX_SUMMARY_ARGS = 4

/** Events whose amount is in the emitting contract's own token, and how many topics the ERC-20 shape has (ERC-721 indexes a token id instead). */
const TOKEN_AMOUNT_EVENTS: Record<string, { topics: number; position: number }> = {
  'Transfer(address,address,uint256)': { topics: 3, position: 2 },
  'Approval(address,address,uint256)': { topics: 3, position: 2 },
  // WETH and its clones: wrapping and unwrapping, in the wrapped token.
  'Deposit(address,uint256)': { topics: 2, position: 1 },
  'Withdrawal(address,uint256)': { topics: 2, position: 1 },
}

/** Where a decoded log carries an ERC-20 amount of its own contract: the argument's name and the token. */
export interface TokenAmountArg {
  name: string
  connectionId: number
  token: string
}

export function tokenAmountArg(event: Pick<CapturedEvent, 'decoded' | 'topics' | 'address' | 'connectionId'>): TokenAmountArg | null {
  const { decoded, address } = event
  if (!decoded || !address) return null
  const shape = TOKEN_AMOUNT_EVENTS[decoded.signature]
  if (!shape || event.topics.length !== shape.topics) return null
  const arg = decodedArgs(decoded)[shape.position]
  if (!arg || typeof arg.value !== 'string' || !/^\d+$/.test(arg.value)) return null
  return { name: arg.name, connectionId: event.connectionId, token: address.toLowerCase() }
}

/**
 * The arguments of a decoded log in a line: "from <A> → <B> 1000" for anything with from
 * and to, else "name value" pairs; addresses are left to the view (watchlist labels).
 */
export function summarizeDecoded(decoded: DecodedEvent, amount: TokenAmountArg | null = null): SummaryPart[] {
  const args = decodedArgs(decoded)
  const pushValue = (target: SummaryPart[], arg: DecodedArg, named: boolean): void => {
    if (amount && arg.name === amount.name && typeof arg.value === 'string') {
      if (named) target.push({ kind: 'label', text: arg.name })
      target.push({ kind: 'amount', raw: arg.value, connectionId: amount.connectionId, token: amount.token })
    } else pushPlainValue(target, arg, named)
  }
  const from = args.find((arg) => arg.name === 'from' && isAddress(arg.value))
  const to = args.find((arg) => arg.name === 'to' && isAddress(arg.value))
  const parts: SummaryPart[] = []
  let rest = args
  if (from && to) {
    parts.push({ kind: 'label', text: 'from' }, { kind: 'address', address: String(from.value) })
    parts.push({ kind: 'label', text: '→' }, { kind: 'address', address: String(to.value) })
    rest = args.filter((arg) => arg !== from && arg !== to)
    // The one remaining argument of a transfer (value, tokenId) reads without its name.
    const only = rest.length === 1 ? rest[0] : undefined
    if (only) {
      pushValue(parts, only, false)
      return parts
    }
  }
  for (const arg of rest.slice(0, MAX_SUMMARY_ARGS)) pushValue(parts, arg, true)
  if (rest.length > MAX_SUMMARY_ARGS) parts.push({ kind: 'label', text: `+${rest.length - MAX_SUMMARY_ARGS} more` })
  return parts
}

function pushPlainValue(parts: SummaryPart[], arg: DecodedArg, named: boolean): void {
  if (named) parts.push({ kind: 'label', text: arg.name })
  if (isAddress(arg.value)) parts.push({ kind: 'address', address: arg.value })
  else parts.push({ kind: 'text', text: compactValue(arg.value), title: `${arg.name}: ${valueText(arg.value)}` })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The line for events that are not decoded logs: the value of a transaction (in the chain's native currency), a head's size. */
export function summarizeOther(event: CapturedEvent, nativeSymbol = 'ETH'): string {
  const payload = event.payload
  switch (event.kind) {
    case 'pending_transaction':
    case 'mined_transaction': {
      const transaction = isRecord(payload) && isRecord(payload.transaction) ? payload.transaction : payload
      if (!isRecord(transaction)) return ''
      const value = formatNativeAmount(transaction.value, nativeSymbol)
      return value ? `value ${value}` : ''
    }
    case 'head': {
      if (!isRecord(payload)) return ''
      const gasUsed = typeof payload.gasUsed === 'string' ? toDecimal(payload.gasUsed) : null
      const txs = Array.isArray(payload.transactions) ? `${payload.transactions.length} tx` : null
      return [gasUsed === null ? null : `gas ${gasUsed}`, txs].filter(Boolean).join(' · ')
    }
    case 'syncing':
      return compactValue(payload)
    case 'log':
      return event.data && event.data !== '0x' ? `data ${shortHash(event.data)}` : ''
  }
}

export interface AmountRow {
  label: string
  /** As people read it: "1.5 ETH", "12.34 gwei". */
  text: string
  /** As the upstream sent it. */
  raw: string
}

/** A transaction's value in the native currency and its gas prices in gwei; a head's base fee. */
export function amountRows(event: CapturedEvent, nativeSymbol = 'ETH'): AmountRow[] {
  const payload = event.payload
  const source = event.kind === 'head' ? payload : isRecord(payload) && isRecord(payload.transaction) ? payload.transaction : payload
  if (!isRecord(source)) return []
  const rows: AmountRow[] = []
  const add = (label: string, raw: unknown, format: (raw: string) => string | null): void => {
    if (typeof raw !== 'string') return
    const text = format(raw)
    if (text) rows.push({ label, text, raw })
  }
  const gwei = (raw: string): string | null => {
    const text = formatGwei(raw)
    return text === raw ? null : `${text} gwei`
  }
  if (event.kind === 'pending_transaction' || event.kind === 'mined_transaction') {
    add('Value', source.value, (raw) => formatNativeAmount(raw, nativeSymbol))
    add('Gas price', source.gasPrice, gwei)
    add('Max fee', source.maxFeePerGas, gwei)
    add('Priority fee', source.maxPriorityFeePerGas, gwei)
  } else if (event.kind === 'head') {
    add('Base fee', source.baseFeePerGas, gwei)
  }
  return rows
}

function toDecimal(value: string): string | null {
  try {
    return integerFormat.format(BigInt(value))
  } catch {
    return null
  }
}

/** The event name a row shows: decoded, or topic0 shortened for logs no ABI knows. */
export function eventLabel(event: CapturedEvent): { text: string; title: string | undefined } {
  if (event.decoded) return { text: event.decoded.event, title: `${event.decoded.signature} · ${event.decoded.source}` }
  const topic0 = event.topics[0]
  if (event.kind === 'log' && topic0) return { text: shortHash(topic0), title: `topic0 ${topic0} (no known ABI)` }
  return { text: '', title: undefined }
}
