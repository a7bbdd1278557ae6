/**
 * The boundary between the /v1/stream protocol layer and the chain tracker: a "watch" is a
 * logs or newHeads request with dfuse semantics (start_block, listen, irreversible_only,
 * with_progress). The tracker side delivers in order and keeps the promises of PROTOCOL.md
 * section 1 (exactly once per canonical block, removed: true on reorg, progress).
 */
import type { HeadData, StreamMessageData } from '../../shared/stream-protocol'
import type { ChainLog, LogFilter } from '../store/chain-store'

export type { LogFilter }

export interface WatchRequest {
  kind: 'logs' | 'newHeads'
  filter: LogFilter
  /** Absolute first block (already resolved from a negative start_block). */
  startBlock: number
  /** The upstream's latest block when the request was received. */
  head: number
  /** newHeads with fetch and no start_block: one head message for block H first. */
  fetchSnapshot: boolean
  listen: boolean
  irreversibleOnly: boolean
  /** Every N blocks processed, counting from the first block; 0 = no progress messages. */
  withProgress: number
  /**
   * History served from the upstream sends progress only where the block's hash comes with
   * its logs and at the end of each eth_getLogs range, not every `withProgress` blocks: one
   * request per range instead of one `eth_getBlockByNumber` per empty block. For the app's own
   * watches, which save their position with each progress (a /v1/stream client asked for N).
   */
  sparseHistoryProgress?: boolean
  /**
   * Resume by cursor: the client processed every block up to this one on its branch. When
   * the block is still canonical the watch continues after it; when a reorg took it off
   * the chain, the watch first takes back the orphaned blocks down to the fork point.
   * `startBlock` is then only the first guess (number + 1).
   */
  resume?: { number: number; hash: string }
  /** The upstream's chain id, named in every progress cursor. */
  chainId: number
}

/** A log a watch delivers: the domain log, as the tracker holds it; the endpoints build their wire shapes from it. */
export interface WatchLog {
  type: 'log'
  log: ChainLog
  /** A reorg took the delivered log back. */
  removed: boolean
  /** Its block is final. */
  irreversible: boolean
  /** The store holds it (chain_logs): served from the tracker's store, not from the upstream's history. */
  stored: boolean
}

/**
 * What a watch sends, in order; the protocol layer adds type/req_id/envelope. A log is the
 * domain log (one shape, built into wire shapes only at the endpoints); the other data are
 * the /v1/stream message shapes themselves. Only `error` carries a plain string code, which
 * the protocol layer checks against its closed list.
 */
export type WatchMessage =
  | WatchLog
  | { type: 'head'; data: HeadData }
  | { type: 'progress'; data: StreamMessageData['progress'] }
  | { type: 'listening'; data: StreamMessageData['listening'] }
  | { type: 'complete'; data: StreamMessageData['complete'] }
  | { type: 'error'; data: { code: string; message: string; details?: Record<string, unknown> } }

export interface WatchHandle {
  stop(): void
}

export interface WatchProvider {
  /** The upstream's latest block number now (H). */
  latestBlock(): Promise<number>
  /** The upstream's chain id (eth_chainId). */
  chainId(): Promise<number>
  open(request: WatchRequest, send: (message: WatchMessage) => void): WatchHandle
}
