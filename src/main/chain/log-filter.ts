/** eth_subscribe/eth_getLogs filter semantics, applied locally to stored logs. */
import type { LogFilter } from '../stream/watch-types'
import type { ChainLog } from './chain-store'

export function matchesFilter(log: Pick<ChainLog, 'address' | 'topics'>, filter: LogFilter): boolean {
  if (filter.address && filter.address.length > 0 && !filter.address.includes(log.address)) return false
  const topics = filter.topics ?? []
  for (let i = 0; i < topics.length; i++) {
    const wanted = topics[i]
    if (wanted === null || wanted === undefined) continue
    const actual = log.topics[i]
    if (actual === undefined || !wanted.includes(actual)) return false
  }
  return true
}

/** The filter as eth_getLogs takes it. */
export function rpcFilter(filter: LogFilter): { address?: string[]; topics?: (string[] | null)[] } {
  return {
    ...(filter.address && filter.address.length > 0 ? { address: filter.address } : {}),
    ...(filter.topics && filter.topics.length > 0 ? { topics: filter.topics } : {}),
  }
}
