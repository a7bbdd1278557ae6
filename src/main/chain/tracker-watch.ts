/**
 * A logs or newHeads watch over a connection's chain (chain-view.ts: this instance's tracker,
 * or the capturer's as the shared store follows it): history from upstream (below the first
 * tracked block, and final blocks, which can no longer be reorganized and whose chain data
 * is pruned) or from the store, then live blocks as the tracker stores them, one block at a
 * time in order. A logs watch registers its filter with the tracker, so the store holds its
 * matches for every non-final canonical block, and reads the store only once that holds. Everything below `next` counts as delivered (from the watch's
 * first block, or from anywhere for a resume by cursor), so a reorg takes back exactly
 * the orphaned blocks the client has seen (`removed: true`) before the replacements arrive.
 */
import type { ConnectionPool } from '../upstream/connection-pool'
import { withRetry } from '../upstream/retry-request'
import { failureCode } from '../upstream/rpc-errors'
import type { WatchHandle, WatchMessage, WatchProvider, WatchRequest } from './watch-types'
import { toChainLog, type ChainBlock, type ChainLog, type RawLog } from '../store/chain-store'
import type { ChainView, FilterRegistration, TrackedBlock } from './chain-view'
import { backfillRange } from './backfill-range'
import { matchesFilter, rpcFilter } from './log-filter'
import { encodeCursor } from './stream-cursor'

type Send = (message: WatchMessage) => void

const hex = (n: number): string => `0x${n.toString(16)}`

export function createTrackerWatchProvider(tracker: ChainView, pool: ConnectionPool): WatchProvider {
  return {
    async latestBlock() {
      return Number(await withRetry(() => pool.request<string>('eth_blockNumber', []), 3))
    },
    chainId: () => tracker.chainId(),
    open(request, send) {
      const watch = new TrackerWatch(tracker, pool, request, send)
      watch.start()
      return watch
    },
  }
}

/** A watch error with its protocol code (a bad cursor, an upstream answer that cannot be used). */
class WatchError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
  }
}

class TrackerWatch implements WatchHandle {
  private next: number
  /** Progress is counted from the request's first block (after the cursor, for a resume). */
  private progressFrom: number
  /** The lowest block this client has seen from us; for a resume by cursor, anything before the cursor. */
  private readonly deliveredFrom: number
  /** Blocks as the tracker announced them after storing them: delivered from memory, not read back. */
  private readonly fresh = new Map<number, TrackedBlock>()
  /** Until the cursor is resolved, nothing is delivered and reorgs are applied to the cursor instead. */
  private resolving: boolean
  private historyDone = false
  private ended = false
  private pumping = false
  private pumpAgain = false
  private readonly detach: (() => void)[] = []
  /** logs watches: the tracker stores this filter's matches once it is active. */
  private registration: FilterRegistration | null = null

  constructor(
    private readonly tracker: ChainView,
    private readonly pool: ConnectionPool,
    private readonly request: WatchRequest,
    private readonly send: Send,
  ) {
    this.next = request.startBlock
    this.progressFrom = request.startBlock
    this.deliveredFrom = request.resume ? 0 : request.startBlock
    this.resolving = request.resume !== undefined
  }

  start(): void {
    if (this.request.kind === 'logs') {
      const registration = this.tracker.registerFilter(this.request.filter)
      this.registration = registration
      this.detach.push(() => registration.release())
    }
    if (this.request.irreversibleOnly) this.detach.push(this.tracker.wantPromptFinality())
    const onBlocks = (blocks: TrackedBlock[]): void => {
      // Blocks announced before the filter took effect lack its logs; the store has them once it is active.
      if (this.registration && !this.registration.active) return
      for (const tracked of blocks) if (tracked.block.number >= this.next) this.fresh.set(tracked.block.number, tracked)
      this.pump()
    }
    const onFinalized = (): void => this.pump()
    // The filter became active (again, after a change of turn): what the store holds is deliverable.
    const onActivated = (): void => this.pump()
    const onClosed = (): void =>
      this.fail(
        new WatchError(
          'upstream_unavailable',
          'The connection this request was served from stopped running (removed, or pointed at another endpoint); send the request again',
        ),
      )
    const onReorg = (orphaned: TrackedBlock[], ancestor: { number: number }): void => this.onReorg(orphaned, ancestor.number)
    this.tracker.on('blocks', onBlocks)
    this.tracker.on('finalized', onFinalized)
    this.tracker.on('reorg', onReorg)
    this.tracker.on('activated', onActivated)
    this.tracker.on('closed', onClosed)
    this.detach.push(
      () => this.tracker.off('activated', onActivated),
      () => this.tracker.off('closed', onClosed),
      () => this.tracker.off('blocks', onBlocks),
      () => this.tracker.off('finalized', onFinalized),
      () => this.tracker.off('reorg', onReorg),
    )
    void this.begin()
  }

  stop(): void {
    this.ended = true
    this.detach.forEach((off) => off())
  }

  private async begin(): Promise<void> {
    try {
      if (this.request.resume) await this.resumeAfter(this.request.resume)
      else if (this.request.kind === 'newHeads' && this.request.fetchSnapshot) {
        const block = await withRetry(() => this.pool.request<Record<string, unknown> | null>('eth_getBlockByNumber', [hex(this.request.head), false]))
        if (block) this.sendHead(toChainBlock(block), false)
      }
      if (this.ended) return
      if (!this.tracker.cursor) this.tracker.poke()
      await this.registration?.ready
      if (this.ended) return
      this.checkHistoryDone(this.next - 1)
      this.pump()
    } catch (error) {
      this.fail(error)
    }
  }

  /**
   * PROTOCOL.md rule 4. A canonical cursor block: continue after it. An orphaned one: take
   * back its branch down to the fork point, newest first, then continue after the fork
   * point. Below the tracked range the store holds no blocks, so the upstream vouches for it.
   */
  private async resumeAfter(cursor: { number: number; hash: string }): Promise<void> {
    let branch = this.tracker.store.branchOf(cursor.hash)
    // An orphaned branch forking below the oldest block held (a reorg right after tracking began): the upstream vouches for its fork point.
    if (branch.state === 'unknown' && branch.orphaned) {
      const oldest = branch.orphaned.at(-1)!.block
      const fork = await withRetry(() => this.pool.request<{ hash?: unknown } | null>('eth_getBlockByNumber', [hex(oldest.number - 1), false]))
      if (typeof fork?.hash === 'string' && fork.hash.toLowerCase() === oldest.parentHash)
        branch = { state: 'orphaned', orphaned: branch.orphaned, ancestor: oldest.number - 1 }
    }
    if (branch.state === 'unknown') {
      const firstTracked = this.tracker.cursor?.firstBlock
      // Final canonical blocks are pruned from the store, and cannot be reorganized: the upstream vouches for them too.
      const belowTracked = firstTracked === undefined || cursor.number < firstTracked || cursor.number <= this.finalized
      const theirs = belowTracked
        ? await withRetry(() => this.pool.request<{ hash?: unknown } | null>('eth_getBlockByNumber', [hex(cursor.number), false]))
        : null
      if (typeof theirs?.hash !== 'string' || theirs.hash.toLowerCase() !== cursor.hash) {
        throw new WatchError(
          'invalid_cursor',
          `The cursor names block ${cursor.number} (${cursor.hash}), which this Tidewatch never stored; start over with start_block`,
          {
            field: 'cursor',
            reason: 'unknown_block',
          },
        )
      }
    } else if (branch.state === 'orphaned' && !this.request.irreversibleOnly) {
      for (const { block, logs } of branch.orphaned) this.takeBack(block, logs)
    }
    if (this.ended) return
    const after = branch.state === 'orphaned' ? branch.ancestor : cursor.number
    this.resolving = false
    this.next = after + 1
    this.progressFrom = this.next
  }

  private get finalized(): number {
    return this.tracker.cursor?.finalized ?? -1
  }

  /** The highest block this watch may deliver now. */
  private limit(): number {
    const cursor = this.tracker.cursor
    if (!cursor) return -1
    let limit = cursor.number
    if (this.request.irreversibleOnly) limit = Math.min(limit, this.finalized)
    if (!this.request.listen) limit = Math.min(limit, this.request.head)
    return limit
  }

  /** Delivers everything deliverable, in order; re-entrant calls coalesce. */
  private pump(): void {
    if (this.ended || this.resolving || (this.registration && !this.registration.active)) return
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    void this.drain()
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.pumping = false
        if (this.pumpAgain && !this.ended) {
          this.pumpAgain = false
          this.pump()
        }
      })
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.ended) return
      const cursor = this.tracker.cursor
      const limit = this.limit()
      if (!cursor || this.next > limit) return
      const upstreamThrough = this.servedFromUpstreamThrough(cursor.firstBlock)
      if (this.next <= upstreamThrough) {
        await this.fromUpstream(this.next, Math.min(limit, upstreamThrough))
        continue
      }
      // Just stored and announced by the tracker: the very block and logs the store holds.
      if (this.fresh.has(this.next)) {
        for (let tracked = this.fresh.get(this.next); tracked && this.next <= limit && !this.ended; tracked = this.fresh.get(this.next)) {
          this.deliverBlock(tracked.block, tracked.logs, true)
        }
        continue
      }
      // From the store, synchronously: no tracker event can interleave with this loop.
      const blocks = this.tracker.store.canonicalRange(this.next, limit)
      if (blocks.length === 0 || blocks[0]!.block.number !== this.next) return
      for (const { block, logs } of blocks) {
        if (block.number !== this.next || this.ended) break
        this.deliverBlock(block, logs, true)
      }
    }
  }

  /**
   * The highest block served from the upstream: below the first tracked block; for logs,
   * final blocks too (the store keeps a filter's logs only from the finalized block on);
   * for heads, final headers pruned from the store.
   */
  private servedFromUpstreamThrough(firstBlock: number): number {
    if (this.request.kind === 'logs') return Math.max(firstBlock - 1, this.finalized)
    return Math.max(firstBlock, this.tracker.store.oldestCanonical() ?? firstBlock) - 1
  }

  /** History below the tracker's first block, and final blocks: eth_getLogs ranges (logs) or block by block (heads). */
  private async fromUpstream(from: number, to: number): Promise<void> {
    if (this.request.kind === 'newHeads') {
      for (let n = from; n <= to && !this.ended; n++) {
        const raw = await withRetry(() => this.pool.request<Record<string, unknown> | null>('eth_getBlockByNumber', [hex(n), false]))
        if (!raw) throw new WatchError('upstream_error', `the upstream has no block ${n}`)
        this.deliverBlock(toChainBlock(raw), [], false)
      }
      return
    }
    const filter = rpcFilter(this.request.filter)
    const ranges = backfillRange(
      (a, b) => withRetry(() => this.pool.request<RawLog[]>('eth_getLogs', [{ ...filter, fromBlock: hex(a), toBlock: hex(b) }], 60_000)),
      from,
      to,
    )
    for await (const range of ranges) {
      if (this.ended) return
      const byBlock = new Map<number, ChainLog[]>()
      for (const raw of range.items) {
        const log = toChainLog(raw)
        const list = byBlock.get(log.blockNumber)
        if (list) list.push(log)
        else byBlock.set(log.blockNumber, [log])
      }
      for (let n = range.from; n <= range.to; n++) {
        const logs = (byBlock.get(n) ?? []).sort((a, b) => a.logIndex - b.logIndex)
        const needsHash = n === this.request.head || (this.progressDue(n) && (!this.request.sparseHistoryProgress || n === range.to))
        const hash = logs[0]?.blockHash ?? (needsHash ? (this.tracker.store.canonicalHash(n) ?? (await this.blockHash(n))) : '')
        this.deliverBlock({ number: n, hash, parentHash: '', timestamp: 0, header: {} }, logs, false)
        if (this.ended) return
      }
    }
  }

  private async blockHash(n: number): Promise<string> {
    const block = await withRetry(() => this.pool.request<{ hash: string } | null>('eth_getBlockByNumber', [hex(n), false]))
    return block?.hash.toLowerCase() ?? ''
  }

  /** `stored`: the block's logs come from the tracker's store (else from the upstream's history). */
  private deliverBlock(block: ChainBlock, logs: ChainLog[], stored: boolean): void {
    this.fresh.delete(block.number)
    const irreversible = block.number <= this.finalized
    if (this.request.kind === 'newHeads') {
      this.sendHead(block, false)
    } else {
      for (const log of logs) if (matchesFilter(log, this.request.filter)) this.send({ type: 'log', log, removed: false, irreversible, stored })
    }
    this.next = block.number + 1
    // A block whose hash is not known (sparse history progress) gets none: a cursor names the hash.
    const due = this.progressDue(block.number) || (block.number === this.request.head && this.request.withProgress > 0 && !this.historyDone)
    if (due && block.hash !== '') {
      this.send({
        type: 'progress',
        data: {
          block_number: block.number,
          block_hash: block.hash,
          cursor: encodeCursor({ chainId: this.request.chainId, number: block.number, hash: block.hash }),
        },
      })
    }
    this.checkHistoryDone(block.number)
  }

  private progressDue(number: number): boolean {
    const every = this.request.withProgress
    return every > 0 && number >= this.progressFrom && (number - this.progressFrom + 1) % every === 0
  }

  /** After block H: `listening` (then live) or `complete`. */
  private checkHistoryDone(processed: number): void {
    if (this.historyDone || processed < this.request.head) return
    this.historyDone = true
    if (this.request.listen) {
      this.send({ type: 'listening', data: { next_block: this.request.head + 1 } })
    } else {
      this.send({ type: 'complete', data: {} })
      this.stop()
    }
  }

  private onReorg(orphaned: TrackedBlock[], ancestor: number): void {
    if (this.ended) return
    this.fresh.clear()
    // A cursor still being resolved reads the store after this reorg, orphans included.
    if (this.resolving) return
    // Irreversible-only watches never delivered a block that can be orphaned.
    if (!this.request.irreversibleOnly) {
      for (const { block, logs } of orphaned) if (block.number >= this.deliveredFrom && block.number < this.next) this.takeBack(block, logs)
    }
    if (this.next > ancestor + 1) this.next = ancestor + 1
    // The replacement blocks get progress again (rule 3), even below the request's first block.
    this.progressFrom = Math.min(this.progressFrom, this.next)
    this.pump()
  }

  /** What was delivered from a block that left the canonical chain, again with `removed: true`, last log first. */
  private takeBack(block: ChainBlock, logs: ChainLog[]): void {
    if (this.request.kind === 'newHeads') {
      this.sendHead(block, true)
      return
    }
    for (let i = logs.length - 1; i >= 0; i--)
      if (matchesFilter(logs[i]!, this.request.filter)) this.send({ type: 'log', log: logs[i]!, removed: true, irreversible: false, stored: true })
  }

  private sendHead(block: ChainBlock, removed: boolean): void {
    // The block's body lists are not part of a header (newHeads never carries them).
    const { transactions: _t, uncles: _u, withdrawals: _w, ...header } = block.header
    this.send({
      type: 'head',
      data: {
        block_number: block.number,
        block_hash: block.hash,
        parent_hash: block.parentHash,
        timestamp: block.timestamp,
        removed,
        irreversible: !removed && block.number <= this.finalized,
        header,
      },
    })
  }

  private fail(error: unknown): void {
    if (this.ended) return
    const message = error instanceof Error ? error.message : String(error)
    if (error instanceof WatchError) this.send({ type: 'error', data: { code: error.code, message, ...(error.details ? { details: error.details } : {}) } })
    else this.send({ type: 'error', data: { code: failureCode(error), message } })
    this.stop()
  }
}

function toChainBlock(raw: Record<string, unknown>): ChainBlock {
  return {
    number: Number(raw.number),
    hash: String(raw.hash).toLowerCase(),
    parentHash: String(raw.parentHash).toLowerCase(),
    timestamp: Number(raw.timestamp),
    header: raw,
  }
}
