/** An event as the capture pipeline stores it: indexed columns plus the raw payload. */
import type { EventKind } from '../../shared/contract'

export interface NormalizedEvent {
  kind: EventKind
  blockNumber: number | null
  blockHash: string | null
  transactionHash: string | null
  transactionIndex: number | null
  logIndex: number | null
  address: string | null
  topics: string[]
  data: string | null
  removed: boolean
  /** Raw result; null for logs, whose columns hold every field (rebuilt on read). */
  payload: unknown
}
