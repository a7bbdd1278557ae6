/** Local from/to filters for the alchemy_* types when Tidewatch builds them itself. */
import type { SubscriptionSpec } from '../../shared/subscription-params'

export interface TxLike {
  hash?: unknown
  from?: unknown
  to?: unknown
}

const lower = (v: unknown): string | null => (typeof v === 'string' ? v.toLowerCase() : null)
const asSet = (v: string | string[] | undefined): Set<string> | null =>
  v === undefined ? null : new Set((Array.isArray(v) ? v : [v]).map((a) => a.toLowerCase()))

/** Predicate for pending transactions of the three pending alchemy_* types. */
export function pendingFilter(spec: SubscriptionSpec): (tx: TxLike) => boolean {
  switch (spec.type) {
    case 'alchemy_filteredNewFullPendingTransactions': {
      const addresses = asSet(spec.params.address)!
      return (tx) => addresses.has(lower(tx.from) ?? '') || addresses.has(lower(tx.to) ?? '')
    }
    case 'alchemy_pendingTransactions': {
      const from = asSet(spec.params.fromAddress)
      const to = asSet(spec.params.toAddress)
      if (!from && !to) return () => true
      return (tx) => Boolean(from?.has(lower(tx.from) ?? '') || to?.has(lower(tx.to) ?? ''))
    }
    default:
      return () => true
  }
}

/** Predicate for alchemy_minedTransactions: any pair matches; a pair's absent side matches all. */
export function minedFilter(spec: Extract<SubscriptionSpec, { type: 'alchemy_minedTransactions' }>): (tx: TxLike) => boolean {
  const pairs = spec.params.addresses
  if (!pairs || pairs.length === 0) return () => true
  return (tx) => {
    const from = lower(tx.from)
    const to = lower(tx.to)
    return pairs.some((pair) => (!pair.from || pair.from === from) && (!pair.to || pair.to === to) && (pair.from !== undefined || pair.to !== undefined))
  }
}

export function hashesOnly(spec: SubscriptionSpec): boolean {
  return (spec.type === 'alchemy_pendingTransactions' || spec.type === 'alchemy_minedTransactions') && spec.params.hashesOnly === true
}
