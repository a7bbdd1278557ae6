/**
 * Turns captured subscription results (NormalizedEvents, whose payload is the raw result)
 * into `/v1/stream` message data. Raw transactions pass through unchanged; only `syncing`
 * status fields are rewritten, as decimal numbers, because providers disagree: the seed's
 * subscription payload carries numbers, an `eth_syncing` result hex quantities.
 */
import type { MinedTransactionData, PendingTransactionData, SyncingData } from '../../shared/stream-protocol'
import type { NormalizedEvent } from '../store/captured-event'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A transaction object, or null where the upstream sent only the hash (bare string or `{ hash }`). */
function fullTransaction(raw: unknown): Json | null {
  if (!isObject(raw)) return null
  return Object.keys(raw).some((key) => key !== 'hash') ? raw : null
}

export function pendingTransactionData(event: NormalizedEvent): PendingTransactionData {
  return { hash: event.transactionHash ?? '', transaction: fullTransaction(event.payload) }
}

export function minedTransactionData(event: NormalizedEvent): MinedTransactionData {
  // Alchemy sends { removed, transaction }; a bare transaction or hash is taken as is.
  const raw = event.payload
  const transaction = isObject(raw) && 'transaction' in raw ? raw.transaction : raw
  return {
    block_number: event.blockNumber,
    block_hash: event.blockHash,
    hash: event.transactionHash ?? '',
    removed: event.removed,
    transaction: fullTransaction(transaction),
  }
}

/**
 * Accepts every shape a syncing status arrives in: a boolean; the subscription payload
 * `{ syncing, status? }`; or an `eth_syncing` result object (which means syncing).
 */
export function syncingData(raw: unknown): SyncingData {
  if (typeof raw === 'boolean') return { syncing: raw, status: null }
  if (!isObject(raw)) return { syncing: false, status: null }
  if (typeof raw.syncing === 'boolean') return { syncing: raw.syncing, status: isObject(raw.status) ? decimalFields(raw.status) : null }
  return { syncing: true, status: decimalFields(raw) }
}

const HEX_QUANTITY = /^0x[0-9a-f]+$/i
const DECIMAL = /^[0-9]+$/

function decimalFields(status: Json): Json {
  return Object.fromEntries(
    Object.entries(status).map(([key, value]) => {
      if (typeof value !== 'string') return [key, value]
      if (HEX_QUANTITY.test(value)) return [key, Number(BigInt(value))]
      if (DECIMAL.test(value)) return [key, Number(value)]
      return [key, value]
    }),
  )
}
