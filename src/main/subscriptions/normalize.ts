/**
 * Turns `eth_subscription` results into NormalizedEvents. These run for every notification,
 * so they check shapes by hand instead of through zod; anything malformed returns a
 * message and is skipped, never thrown.
 */
import type { SubscriptionType } from '../../shared/subscription-params'
import type { NormalizedEvent } from '../store/captured-event'

export type Normalized = { ok: true; event: NormalizedEvent } | { ok: false; message: string }

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const hexNumber = (v: unknown): number | null => (typeof v === 'string' && /^0x[0-9a-fA-F]{1,15}$/.test(v) ? Number.parseInt(v, 16) : null)
const str = (v: unknown): string | null => (typeof v === 'string' ? v.toLowerCase() : null)

const EMPTY = { blockNumber: null, blockHash: null, transactionHash: null, transactionIndex: null, logIndex: null, address: null, topics: [], data: null, removed: false }

export function normalizeLog(raw: unknown): Normalized {
  if (!isObject(raw)) return { ok: false, message: 'log is not an object' }
  const { address, topics, data, blockNumber, blockHash, transactionHash, transactionIndex, logIndex, removed } = raw
  if (typeof address !== 'string' || !Array.isArray(topics) || typeof data !== 'string') return { ok: false, message: 'log lacks address, topics or data' }
  if (!topics.every((t) => typeof t === 'string')) return { ok: false, message: 'log topics are not strings' }
  return {
    ok: true,
    event: {
      kind: 'log',
      blockNumber: hexNumber(blockNumber),
      blockHash: str(blockHash),
      transactionHash: str(transactionHash),
      transactionIndex: hexNumber(transactionIndex),
      logIndex: hexNumber(logIndex),
      address: address.toLowerCase(),
      topics: (topics).map((t) => t.toLowerCase()),
      data,
      removed: removed === true,
      // The upstream's object as received; the columns above are derived from it (PROTOCOL.md rule 7).
      payload: raw,
    },
  }
}

function normalizeHead(raw: unknown): Normalized {
  if (!isObject(raw) || typeof raw.hash !== 'string') return { ok: false, message: 'newHeads result without a hash' }
  return { ok: true, event: { ...EMPTY, kind: 'head', blockNumber: hexNumber(raw.number), blockHash: raw.hash.toLowerCase(), payload: raw } }
}

export function normalizeTransaction(raw: unknown, kind: 'pending_transaction' | 'mined_transaction', removed = false): Normalized {
  if (typeof raw === 'string') {
    if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) return { ok: false, message: 'transaction hash is not 32 bytes of hex' }
    return { ok: true, event: { ...EMPTY, kind, transactionHash: raw.toLowerCase(), removed, payload: raw } }
  }
  if (!isObject(raw) || typeof raw.hash !== 'string') return { ok: false, message: 'transaction without a hash' }
  return {
    ok: true,
    event: {
      ...EMPTY,
      kind,
      blockNumber: hexNumber(raw.blockNumber),
      blockHash: str(raw.blockHash),
      transactionHash: raw.hash.toLowerCase(),
      transactionIndex: hexNumber(raw.transactionIndex),
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

function normalizeSyncing(raw: unknown): Normalized {
  if (typeof raw !== 'boolean' && !isObject(raw)) return { ok: false, message: 'syncing result is neither a boolean nor an object' }
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
