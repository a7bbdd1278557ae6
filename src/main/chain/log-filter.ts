/** eth_subscribe/eth_getLogs filter semantics, applied locally to stored logs. */
import type { LogFilter } from './watch-types'
import type { ChainLog } from '../store/chain-store'

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

/**
 * The `logs` subscription parameters (one address or many; topics position-wise, a string,
 * an array of alternatives, or null) as a LogFilter. The param schemas already lowercased them.
 */
export function toLogFilter(params: { address?: string | string[] | undefined; topics?: (string | string[] | null)[] | undefined }): LogFilter {
  const filter: LogFilter = {}
  if (params.address !== undefined) filter.address = Array.isArray(params.address) ? params.address : [params.address]
  if (params.topics !== undefined) filter.topics = params.topics.map((position) => (position === null ? null : Array.isArray(position) ? position : [position]))
  return filter
}

/** The filter as eth_getLogs takes it. */
export function rpcFilter(filter: LogFilter): { address?: string[]; topics?: (string[] | null)[] } {
  return {
    ...(filter.address && filter.address.length > 0 ? { address: filter.address } : {}),
    ...(filter.topics && filter.topics.length > 0 ? { topics: filter.topics } : {}),
  }
}

/**
 * One filter covering several (eth_getLogs takes one): every address, or none when any
 * filter takes all addresses; topics position-wise, null where any filter takes any topic
 * there. It can match more than each filter alone; callers keep what `matchesAny` keeps.
 */
export function unionFilter(filters: readonly LogFilter[]): LogFilter {
  if (filters.length === 0) return {}
  const union: LogFilter = {}
  if (filters.every((f) => f.address && f.address.length > 0)) union.address = [...new Set(filters.flatMap((f) => f.address!))].sort()
  const width = Math.min(...filters.map((f) => f.topics?.length ?? 0))
  const topics: (string[] | null)[] = []
  for (let i = 0; i < width; i++) {
    const positions = filters.map((f) => f.topics![i])
    topics.push(positions.some((p) => p === null || p === undefined) ? null : [...new Set(positions.flatMap((p) => p!))].sort())
  }
  while (topics.length > 0 && topics[topics.length - 1] === null) topics.pop()
  if (topics.length > 0) union.topics = topics
  return union
}

export function matchesAny(log: Pick<ChainLog, 'address' | 'topics'>, filters: Iterable<LogFilter>): boolean {
  for (const filter of filters) if (matchesFilter(log, filter)) return true
  return false
}
