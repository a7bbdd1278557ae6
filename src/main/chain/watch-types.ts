/**
 * The boundary between the /v1/stream protocol layer and the chain tracker: a "watch" is a
 * logs or newHeads request with dfuse semantics (start_block, listen, irreversible_only,
 * with_progress). The tracker side delivers in order and keeps the promises of PROTOCOL.md
 * section 1 (exactly once per canonical block, removed: true on reorg, progress).
 */
export interface LogFilter {
  /** Lowercase addresses; absent = any. */
  address?: string[]
  /** Position-wise: null = any, array = any of (lowercase). */
  topics?: (string[] | null)[]
}

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
   * Resume by cursor: the client processed every block up to this one on its branch. When
   * the block is still canonical the watch continues after it; when a reorg took it off
   * the chain, the watch first takes back the orphaned blocks down to the fork point.
   * `startBlock` is then only the first guess (number + 1).
   */
  resume?: { number: number; hash: string }
  /** The upstream's chain id, named in every progress cursor. */
  chainId: number
}

/** What a watch sends, in order; the protocol layer adds type/req_id/envelope. */
export type WatchMessage =
  | {
      type: 'log'
      data: {
        block_number: number
        block_hash: string
        transaction_hash: string
        log_index: number
        removed: boolean
        irreversible: boolean
        log: Record<string, unknown>
        decoded?: { event: string; args: Record<string, unknown> }
      }
    }
  | {
      type: 'head'
      data: {
        block_number: number
        block_hash: string
        parent_hash: string
        timestamp: number
        removed: boolean
        irreversible: boolean
        header: Record<string, unknown>
      }
    }
  | { type: 'progress'; data: { block_number: number; block_hash: string; cursor: string } }
  | { type: 'listening'; data: { next_block: number } }
  | { type: 'complete'; data: Record<string, never> }
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
