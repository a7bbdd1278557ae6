/** Compact one-line descriptions of subscription params and captured events, for rows and tables. */
import type { CapturedEvent, EventKind, Subscription } from '@shared/contract'
import { countLabel, shortHash } from '../format'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A string or a list of strings as params carry them, as a list. */
function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string')
  return []
}

/** "0x1234…abcd" for one address, "3 addresses" for several. */
function addressesText(value: unknown): string | null {
  const list = asList(value)
  if (list.length === 0) return null
  return list.length === 1 ? shortHash(list[0]!) : countLabel(list.length, 'address', 'addresses')
}

/** "address 0x1234…abcd · 2 topics", "from 0xab…cdef · hashes only", "no parameters". */
export function summarizeParams(subscription: Pick<Subscription, 'type' | 'params'>): string {
  const { params } = subscription
  const parts: string[] = []
  switch (subscription.type) {
    case 'logs': {
      const address = addressesText(params.address)
      parts.push(address ? `address ${address}` : 'any address')
      if (Array.isArray(params.topics)) {
        const filtered = params.topics.filter((topic) => topic !== null).length
        if (filtered > 0) parts.push(countLabel(filtered, 'topic'))
      }
      break
    }
    case 'alchemy_filteredNewFullPendingTransactions': {
      const address = addressesText(params.address)
      if (address) parts.push(`address ${address}`)
      break
    }
    case 'alchemy_pendingTransactions': {
      const from = addressesText(params.fromAddress)
      const to = addressesText(params.toAddress)
      if (from) parts.push(`from ${from}`)
      if (to) parts.push(`to ${to}`)
      if (!from && !to) parts.push('all pending')
      break
    }
    case 'alchemy_minedTransactions': {
      const pairs = Array.isArray(params.addresses) ? params.addresses.filter(isRecord) : []
      if (pairs.length === 1) {
        const pair = pairs[0]!
        const from = typeof pair.from === 'string' ? shortHash(pair.from) : 'any'
        const to = typeof pair.to === 'string' ? shortHash(pair.to) : 'any'
        parts.push(`${from} → ${to}`)
      } else if (pairs.length > 1) {
        parts.push(countLabel(pairs.length, 'address pair'))
      } else {
        parts.push('all mined')
      }
      if (params.includeRemoved === true) parts.push('incl. removed')
      break
    }
    default:
      break
  }
  if (params.hashesOnly === true) parts.push('hashes only')
  return parts.length > 0 ? parts.join(' · ') : 'no parameters'
}

export const EVENT_KIND_LABELS: Record<EventKind, string> = {
  head: 'head',
  log: 'log',
  pending_transaction: 'pending tx',
  mined_transaction: 'mined tx',
  syncing: 'syncing',
}

/** The transaction inside an event payload: the payload itself, or its `transaction` (mined transactions). */
function transactionOf(payload: unknown): Record<string, unknown> | null {
  if (!isRecord(payload)) return null
  if (isRecord(payload.transaction)) return payload.transaction
  return payload
}

/** Sender and recipient of a transaction event; `to` is null for a contract creation. */
export function transactionParties(event: CapturedEvent): { from: string; to: string | null } | null {
  if (event.kind !== 'pending_transaction' && event.kind !== 'mined_transaction') return null
  const transaction = transactionOf(event.payload)
  if (!transaction || typeof transaction.from !== 'string') return null
  return { from: transaction.from, to: typeof transaction.to === 'string' ? transaction.to : null }
}

/** The hash worth showing: the transaction's, or the block's for heads. */
export function eventHash(event: CapturedEvent): string | null {
  if (event.kind === 'head') return event.blockHash
  if (event.transactionHash) return event.transactionHash
  // Hash-only pending transactions arrive as a bare hash string.
  if (typeof event.payload === 'string') return event.payload
  const transaction = transactionOf(event.payload)
  return transaction && typeof transaction.hash === 'string' ? transaction.hash : null
}

/** Pretty JSON of the raw payload for the detail view; never throws. */
export function prettyPayload(payload: unknown): string {
  try {
    return JSON.stringify(payload, null, 2) ?? String(payload)
  } catch {
    return String(payload)
  }
}
