/**
 * Turns `eth_subscription` results into NormalizedEvents. These run for every notification,
 * so they check shapes by hand instead of through zod; anything malformed returns a
 * message naming the field and is skipped, never thrown. Quantities that become numbers
 * (block numbers, indexes) must fit a JavaScript number exactly.
 */
import type { SubscriptionType } from '../../shared/subscription-params'
import { optionalSafeNumber } from '../upstream/quantity'
import type { NormalizedEvent } from '../store/captured-event'

export type Normalized = { ok: true; event: NormalizedEvent } | { ok: false; message: string }

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | null => (typeof v === 'string' ? v.toLowerCase() : null)
const HASH32 = /^0x[0-9a-fA-F]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** The named quantity fields of a record as numbers (null where absent), or the first problem. */
function quantities<F extends string>(
  record: Json,
  what: string,
  fields: readonly F[],
): { ok: true; values: Record<F, number | null> } | { ok: false; message: string } {
  const values = {} as Record<F, number | null>
  for (const field of fields) {
    const parsed = optionalSafeNumber(record, field)
    if (!parsed.ok) return { ok: false, message: `${what} ${parsed.problem}` }
    values[field] = parsed.value
  }
  return { ok: true, values }
}

/** Optional hash-like fields must be 32 bytes of hex when present. */
function badHash(record: Json, what: string, fields: readonly string[]): string | null {
  for (const field of fields) {
    const value = record[field]
    if (value !== undefined && value !== null && (typeof value !== 'string' || !HASH32.test(value))) return `${what} ${field} is not 32 bytes of hex`
  }
  return null
}

const EMPTY = {
  blockNumber: null,
  blockHash: null,
  transactionHash: null,
  transactionIndex: null,
  logIndex: null,
  address: null,
  topics: [],
  data: null,
  removed: false,
}

export function normalizeLog(raw: unknown): Normalized {
  if (!isObject(raw)) return { ok: false, message: 'log is not an object' }
  const { address, topics, data, blockNumber, blockHash, transactionHash, transactionIndex, logIndex, removed } = raw
  if (typeof address !== 'string' || !Array.isArray(topics) || typeof data !== 'string') return { ok: false, message: 'log lacks address, topics or data' }
  if (!ADDRESS.test(address)) return { ok: false, message: 'log address is not 20 bytes of hex' }
  if (!topics.every((t) => typeof t === 'string' && HASH32.test(t))) return { ok: false, message: 'log topics are not all 32 bytes of hex' }
  if (!/^0x[0-9a-fA-F]*$/.test(data)) return { ok: false, message: 'log data is not hex' }
  const hashProblem = badHash(raw, 'log', ['blockHash', 'transactionHash'])
  if (hashProblem) return { ok: false, message: hashProblem }
  const numbers = quantities({ blockNumber, transactionIndex, logIndex }, 'log', ['blockNumber', 'transactionIndex', 'logIndex'])
  if (!numbers.ok) return numbers
  return {
    ok: true,
    event: {
      kind: 'log',
      ...numbers.values,
      blockHash: str(blockHash),
      transactionHash: str(transactionHash),
      address: address.toLowerCase(),
      topics: topics.map((t) => t.toLowerCase()),
      data,
      removed: removed === true,
      // The upstream's object as received; the columns above are derived from it (PROTOCOL.md rule 7).
      payload: raw,
    },
  }
}

function normalizeHead(raw: unknown): Normalized {
  if (!isObject(raw) || typeof raw.hash !== 'string') return { ok: false, message: 'newHeads result without a hash' }
  if (!HASH32.test(raw.hash)) return { ok: false, message: 'newHeads result hash is not 32 bytes of hex' }
  const numbers = quantities(raw, 'newHeads result', ['number'])
  if (!numbers.ok) return numbers
  return { ok: true, event: { ...EMPTY, kind: 'head', blockNumber: numbers.values.number, blockHash: raw.hash.toLowerCase(), payload: raw } }
}

export function normalizeTransaction(raw: unknown, kind: 'pending_transaction' | 'mined_transaction', removed = false): Normalized {
  if (typeof raw === 'string') {
    if (!HASH32.test(raw)) return { ok: false, message: 'transaction hash is not 32 bytes of hex' }
    return { ok: true, event: { ...EMPTY, kind, transactionHash: raw.toLowerCase(), removed, payload: raw } }
  }
  if (!isObject(raw) || typeof raw.hash !== 'string') return { ok: false, message: 'transaction without a hash' }
  if (!HASH32.test(raw.hash)) return { ok: false, message: 'transaction hash is not 32 bytes of hex' }
  const hashProblem = badHash(raw, 'transaction', ['blockHash'])
  if (hashProblem) return { ok: false, message: hashProblem }
  if (raw.to !== undefined && raw.to !== null && (typeof raw.to !== 'string' || !ADDRESS.test(raw.to)))
    return { ok: false, message: 'transaction to is not 20 bytes of hex' }
  const numbers = quantities(raw, 'transaction', ['blockNumber', 'transactionIndex'])
  if (!numbers.ok) return numbers
  return {
    ok: true,
    event: {
      ...EMPTY,
      kind,
      ...numbers.values,
      blockHash: str(raw.blockHash),
      transactionHash: raw.hash.toLowerCase(),
      address: str(raw.to),
      removed,
      payload: raw,
    },
  }
}

function normalizeMined(raw: unknown): Normalized {
  // Alchemy: { removed, transaction }.
  if (isObject(raw) && 'transaction' in raw) {
    const inner = normalizeTransaction(raw.transaction, 'mined_transaction', raw.removed === true)
    return inner.ok ? { ok: true, event: { ...inner.event, payload: raw } } : inner
  }
  return normalizeTransaction(raw, 'mined_transaction')
}

const SYNCING_PROGRESS = ['startingBlock', 'currentBlock', 'highestBlock'] as const

/**
 * The seed's subscription payload `{ syncing, status: { startingBlock: 674427, ... } }`
 * (decimal numbers) or an `eth_syncing` answer (hex quantities, when emulated). The block
 * fields are read as numbers downstream, so they must fit one exactly; others pass as sent.
 */
function normalizeSyncing(raw: unknown): Normalized {
  if (typeof raw === 'boolean') return { ok: true, event: { ...EMPTY, kind: 'syncing', payload: raw } }
  if (!isObject(raw)) return { ok: false, message: 'syncing result is neither a boolean nor an object' }
  if ('syncing' in raw && typeof raw.syncing !== 'boolean') return { ok: false, message: 'syncing result syncing is not a boolean' }
  const status = 'status' in raw ? raw.status : raw
  if (status !== null && status !== undefined && !isObject(status)) return { ok: false, message: 'syncing result status is not an object' }
  for (const field of SYNCING_PROGRESS) {
    const value = status?.[field]
    if (value === undefined || value === null) continue
    const fits =
      typeof value === 'number'
        ? Number.isSafeInteger(value) && value >= 0
        : (typeof value === 'string' && /^\d{1,15}$/.test(value)) || optionalSafeNumber({ [field]: value }, field).ok
    if (!fits)
      return {
        ok: false,
        message: `syncing result ${field} is not a block number Tidewatch can hold (a non-negative integer up to ${Number.MAX_SAFE_INTEGER})`,
      }
  }
  return { ok: true, event: { ...EMPTY, kind: 'syncing', payload: raw } }
}

export function normalize(type: SubscriptionType, raw: unknown): Normalized {
  switch (type) {
    case 'newHeads':
      return normalizeHead(raw)
    case 'logs':
      return normalizeLog(raw)
    case 'newPendingTransactions':
    case 'alchemy_newFullPendingTransactions':
    case 'alchemy_filteredNewFullPendingTransactions':
    case 'alchemy_pendingTransactions':
      return normalizeTransaction(raw, 'pending_transaction')
    case 'alchemy_minedTransactions':
      return normalizeMined(raw)
    case 'syncing':
      return normalizeSyncing(raw)
  }
}
