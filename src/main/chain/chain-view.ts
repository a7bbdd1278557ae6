/**
 * What a watch (tracker-watch.ts) needs of a connection's chain, whoever keeps it: this
 * instance's ChainTracker when it captures the connection, a FollowedChain (the store's
 * change feed) when another instance sharing the store captures it, and ConnectionChain,
 * which stays the same across those turns so a /v1/stream or /v1/rpc client's watch does.
 */
import type { EventEmitter } from 'node:events'
import type { BlockWithLogs, ChainReads, Cursor, LogFilter } from '../store/chain-store'

export type TrackedBlock = BlockWithLogs

export interface ChainViewEvents {
  /** New canonical blocks with all their logs, in chain order, after they are stored (a group stored in one transaction comes as one event). */
  blocks: [TrackedBlock[]]
  /** Blocks that left the canonical chain, newest first; `ancestor` is the common ancestor. */
  reorg: [orphaned: TrackedBlock[], ancestor: { number: number; hash: string }]
  finalized: [number]
  /** A sync attempt failed (it is retried); not named 'error' so an unheard one never throws. */
  trouble: [string]
  /** A filter became active (again): watches waiting for it deliver what the store holds. */
  activated: []
  /** The connection stopped running here (removed, pointed elsewhere, or Tidewatch closing): watches on it end. */
  closed: []
}

/** A filter a watch registered; `active` once the store holds its matches for every non-final canonical block. */
export interface FilterRegistration {
  readonly filter: LogFilter
  /** Blocks announced while it is active carry its logs; it may go inactive again (a change of turn) until the new keeper holds them. */
  readonly active: boolean
  /** Resolves when first active. */
  readonly ready: Promise<void>
  release(): void
}

export interface ChainView extends EventEmitter<ChainViewEvents> {
  /** The stored chain as this keeper holds it; reads answer at once. */
  readonly store: ChainReads
  readonly cursor: Cursor | undefined
  /** The upstream's chain id. */
  chainId(): Promise<number>
  /** Asks that this filter's logs be stored (see FilterRegistration). */
  registerFilter(filter: LogFilter, options?: { keep?: boolean }): FilterRegistration
  /** An irreversible_only watch wants finality asked often; returns the release. */
  wantPromptFinality(): () => void
  /** Asks the keeper to catch up now (a watch with nothing to serve yet). */
  poke(): void
}
