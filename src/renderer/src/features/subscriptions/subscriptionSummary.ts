/** Compact one-line descriptions of subscription params and captured events, for rows and tables. */
import type { CapturedEvent, EventKind, Subscription, WatchOptions } from '@shared/contract'
import { countLabel, formatInteger, shortHash } from '../../ui/format'
import { buildWatchInput, isWatchType, type SubscriptionDraft } from './subscriptionDraft'

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

/** Where a watch starts, compactly: "live", "from -500", "from genesis", "from #18,000,000". */
function startText(startBlock: number | undefined): string {
  if (startBlock === undefined) return 'live'
  if (startBlock < 0) return `from ${startBlock}`
  if (startBlock === 0) return 'from genesis'
  return `from #${formatInteger(startBlock)}`
}

/** "from -500 · irreversible · progress/10", "live · fetch", "from #18,000,000 · history only". */
export function summarizeWatch(type: Subscription['type'], watch: WatchOptions): string {
  const parts = [startText(watch.startBlock)]
  if (type === 'newHeads' && watch.fetch) parts.push('fetch')
  if (!watch.listen) parts.push('history only')
  if (watch.irreversibleOnly) parts.push('irreversible')
  if (watch.withProgress !== undefined) parts.push(`progress/${formatInteger(watch.withProgress)}`)
  return parts.join(' · ')
}

/** A longer title for the same options. */
export function explainWatch(type: Subscription['type'], watch: WatchOptions): string {
  const start =
    watch.startBlock === undefined
      ? 'Starts with the next block'
      : watch.startBlock < 0
        ? `Starts ${formatInteger(-watch.startBlock)} blocks before the head at creation`
        : `Starts at block ${formatInteger(watch.startBlock)}`
  const lines = [start]
  if (type === 'newHeads' && watch.fetch) lines.push('sends the current head first')
  lines.push(watch.listen ? 'keeps listening' : 'stops at the head (listen off)')
  if (watch.irreversibleOnly) lines.push('final blocks only')
  if (watch.withProgress !== undefined) lines.push(`progress every ${countLabel(watch.withProgress, 'block')}`)
  return lines.join('; ')
}

/** What a watch being built will deliver, in a sentence; null for other types or unreadable input. */
export function describeWatchPlan(draft: SubscriptionDraft): string | null {
  if (!isWatchType(draft.type)) return null
  const { input, issues } = buildWatchInput(draft)
  if (issues.length > 0) return null
  const what = draft.type === 'logs' ? 'matching logs' : 'block headers'
  const { startBlock, listen } = input
  const fetching = input.fetch && startBlock === undefined
  let sentence: string
  if (startBlock === undefined) {
    if (!listen && !fetching) return 'With no start block and listen off there is nothing to deliver: it completes at once.'
    sentence = fetching
      ? listen
        ? 'Sends the current head, then every new block.'
        : 'Sends the current head, then completes.'
      : `Delivers ${what} from the next block on.`
  } else {
    const from =
      startBlock < 0
        ? `from ${formatInteger(-startBlock)} blocks before the head`
        : startBlock === 0
          ? 'from genesis'
          : `from block ${formatInteger(startBlock)}`
    sentence = `Delivers ${what} ${from}${listen ? ', then keeps listening.' : ' up to the head, then completes.'}`
  }
  if (input.irreversibleOnly) sentence += ' Final blocks only: events wait for finality.'
  return sentence
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
