/**
 * The canonical chain as Tidewatch knows it, for one connection. Processes blocks strictly
 * in order from its persisted cursor: each block is fetched by number, checked against its
 * parent, stored with all its logs, then announced. A parent mismatch (or a different hash
 * at the cursor's height) is a reorg: walk back to the common ancestor, orphan what is
 * above it, announce the orphaned blocks, and continue on the new branch. Gaps of any
 * length (a dropped socket, a restart) are filled the same way: block by block from the
 * cursor. Live notifications only say "look again"; they are never trusted as data, which
 * is also why anvil's silence about `removed: true` does not matter.
 */
import { EventEmitter } from 'node:events'
import type { ConnectionPool } from '../upstream/connection-pool'
import type { Db, WriteGate } from '../store/database'
import { ChainStore, toChainLog, type ChainBlock, type ChainLog, type RawLog } from './chain-store'

export interface TrackerOptions {
  connectionId: number
  db: Db
  pool: ConnectionPool
  /** Finality depth where the upstream has no 'finalized' tag (PROTOCOL: default 64); a function when it depends on the chain, learnt after connecting. */
  confirmations?: number | (() => number)
  /** Forks deeper than this are reported, not applied. */
  maxReorgDepth?: number
  /** Block appends wait for the events writer thread to be idle (engine.ts). */
  writeGate?: WriteGate
  log: (message: string) => void
}

export interface TrackedBlock {
  block: ChainBlock
  logs: ChainLog[]
}

export interface TrackerEvents {
  /** A new canonical block, with all its logs, after it is stored. */
  block: [TrackedBlock]
  /** Blocks that left the canonical chain, newest first; `ancestor` is the common ancestor. */
  reorg: [orphaned: TrackedBlock[], ancestor: { number: number; hash: string }]
  finalized: [number]
  /** A sync attempt failed (it is retried); not named 'error' so an unheard one never throws. */
  trouble: [string]
}

interface RawBlock {
  number: string
  hash: string
  parentHash: string
  timestamp: string
  logsBloom?: string
  [key: string]: unknown
}

const EMPTY_BLOOM = /^0x0*$/

export class ChainTracker extends EventEmitter<TrackerEvents> {
  readonly store: ChainStore
  private syncing: Promise<void> | null = null
  private again = false
  private stopped = false
  private readonly confirmations: () => number
  private readonly maxReorgDepth: number
  private retryTimer: NodeJS.Timeout | null = null

  constructor(private readonly options: TrackerOptions) {
    super()
    this.store = new ChainStore(options.db, options.connectionId, options.writeGate)
    const confirmations = options.confirmations ?? 64
    this.confirmations = typeof confirmations === 'function' ? confirmations : () => confirmations
    this.maxReorgDepth = options.maxReorgDepth ?? 256
  }

  get cursor() {
    return this.store.cursor()
  }

  private chainIdAnswer: Promise<number> | null = null

  /** The upstream's chain id (eth_chainId), asked once; a failed answer is asked again next time. */
  chainId(): Promise<number> {
    this.chainIdAnswer ??= this.request<unknown>('eth_chainId', []).then((answer) => {
      if (typeof answer !== 'string' || !/^0x[0-9a-f]{1,13}$/i.test(answer)) throw new Error(`the upstream answered eth_chainId with ${JSON.stringify(answer)?.slice(0, 80)}, not a chain id`)
      return Number(answer)
    })
    this.chainIdAnswer.catch(() => (this.chainIdAnswer = null))
    return this.chainIdAnswer
  }

  /** Asks the tracker to catch up with the upstream's head; calls coalesce. */
  poke(): void {
    if (this.stopped) return
    if (this.syncing) {
      this.again = true
      return
    }
    this.syncing = this.sync()
      .catch((error: unknown) => {
        const message = `chain tracker: ${error instanceof Error ? error.message : String(error)}`
        this.options.log(message)
        this.emit('trouble', message)
        // The next head pokes again; a quiet chain gets a timed retry.
        if (!this.retryTimer && !this.stopped) this.retryTimer = setTimeout(() => ((this.retryTimer = null), this.poke()), 2_000).unref()
      })
      .finally(() => {
        this.syncing = null
        if (this.again) {
          this.again = false
          this.poke()
        }
      })
  }

  /** Resolves when no sync is running (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.syncing) await this.syncing
  }

  stop(): void {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
  }

  private request<T>(method: string, params: unknown[]): Promise<T> {
    return this.options.pool.request<T>(method, params, 30_000)
  }

  /** A block by number or tag, checked: a peer's malformed answer must not be stored. */
  private async block(tag: string): Promise<RawBlock | null> {
    const block = await this.request<unknown>('eth_getBlockByNumber', [tag, false])
    if (block === null) return null
    const b = block as Partial<RawBlock> | undefined
    const hash32 = (v: unknown) => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v)
    if (!b || typeof b !== 'object' || !hash32(b.hash) || !hash32(b.parentHash) || typeof b.number !== 'string' || !/^0x[0-9a-fA-F]+$/.test(b.number)) {
      throw new Error(`the upstream answered eth_getBlockByNumber(${tag}) with something that is not a block: ${JSON.stringify(block)?.slice(0, 200)}`)
    }
    return b as RawBlock
  }

  private async sync(): Promise<void> {
    const latest = await this.block('latest')
    if (!latest) return
    const latestNumber = Number(latest.number)
    let cursor = this.store.cursor()
    if (!cursor) {
      // First run on this connection: tracking starts at the head; older history is served from eth_getLogs.
      await this.processBlock(latest, latestNumber)
      await this.updateFinality(latestNumber)
      return
    }
    // The upstream's head is at or below ours: a replaced tip (same-height reorg) or a lagging node.
    if (latestNumber <= cursor.number) {
      const theirs = latestNumber === cursor.number ? latest : await this.block(hex(cursor.number))
      // A lagging node has no block at our height yet: not a reorg, just wait for it.
      if (theirs && theirs.hash.toLowerCase() !== cursor.hash) await this.handleFork(cursor.number)
      else if (latestNumber < cursor.number - this.maxReorgDepth) this.options.log(`upstream head ${latestNumber} is far below ours (${cursor.number}); waiting for the node to catch up`)
      cursor = this.store.cursor()!
    }
    while (!this.stopped && cursor.number < latestNumber) {
      const next = await this.block(hex(cursor.number + 1))
      if (!next) break
      if (next.parentHash.toLowerCase() !== cursor.hash) {
        await this.handleFork(cursor.number)
      } else {
        await this.processBlock(next, cursor.firstBlock)
      }
      cursor = this.store.cursor()!
    }
    await this.updateFinality(latestNumber)
  }

  /** Walks back from `height` to the highest block whose hash the upstream agrees with. */
  private async handleFork(height: number): Promise<void> {
    let number = height
    let depth = 0
    for (;;) {
      const ours = this.store.canonicalHash(number)
      if (ours === undefined) break
      const theirs = await this.block(hex(number))
      if (theirs && theirs.hash.toLowerCase() === ours) break
      number -= 1
      depth += 1
      if (depth > this.maxReorgDepth) {
        throw new Error(`fork deeper than ${this.maxReorgDepth} blocks below ${height}: not applied; raise the maximum reorg depth or check the upstream`)
      }
    }
    let ancestor = { number, hash: this.store.canonicalHash(number) ?? '' }
    if (!ancestor.hash) ancestor = await this.anchorBelowTrackedRange()
    const orphaned = this.store.orphanAbove(ancestor)
    if (orphaned.length === 0) return
    this.options.log(`reorg: ${orphaned.length} block(s) above ${ancestor.number} left the canonical chain`)
    this.emit('reorg', orphaned, ancestor)
  }

  /**
   * The fork reaches the first tracked block. Its stored parent is the ancestor when the
   * upstream agrees on it; otherwise the fork is older than anything tracked: re-anchor on
   * the upstream's branch and say that deliveries below the first block cannot be corrected.
   */
  private async anchorBelowTrackedRange(): Promise<{ number: number; hash: string }> {
    const first = this.store.cursor()!.firstBlock
    const ours = this.store.blockAt(first)
    const theirs = await this.block(hex(first))
    if (!ours || !theirs) throw new Error(`cannot compare block ${first} with the upstream`)
    if (theirs.parentHash.toLowerCase() !== ours.parentHash) {
      this.options.log(`fork older than the first tracked block ${first}: re-anchoring on the upstream's branch; events delivered below it cannot be taken back`)
    }
    return { number: first - 1, hash: theirs.parentHash.toLowerCase() }
  }

  private async processBlock(raw: RawBlock, firstBlock: number): Promise<void> {
    const block: ChainBlock = {
      number: Number(raw.number),
      hash: raw.hash.toLowerCase(),
      parentHash: raw.parentHash.toLowerCase(),
      timestamp: Number(raw.timestamp),
      header: raw,
    }
    const logs = await this.fetchLogs(block, raw.logsBloom)
    this.store.appendBlock(block, logs, firstBlock)
    this.emit('block', { block, logs })
  }

  /**
   * All logs of one block by its hash. Cross-checked: a non-empty bloom with no logs, or
   * logs of another block, means the node answered from a different view; refetch.
   */
  private async fetchLogs(block: ChainBlock, bloom: string | undefined): Promise<ChainLog[]> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = await this.request<unknown>('eth_getLogs', [{ blockHash: block.hash }])
      const raw = Array.isArray(answer) && answer.every(isRawLog) ? answer : null
      if (!raw) throw new Error(`the upstream answered eth_getLogs for block ${block.number} with something that is not a list of logs`)
      const wrongBlock = raw.some((log) => log.blockHash.toLowerCase() !== block.hash)
      const missing = raw.length === 0 && bloom !== undefined && !EMPTY_BLOOM.test(bloom)
      if (!wrongBlock && !missing) {
        // Block fields from the block itself: some nodes leave them out of eth_getLogs by hash.
        return raw
          .map((log) => {
            // The raw object stays as received; only a missing blockNumber is filled in, so clients can place the log.
            const complete = log.blockNumber === undefined ? { ...log, blockNumber: hex(block.number) } : log
            return { ...toChainLog(complete), blockHash: block.hash, blockNumber: block.number }
          })
          .sort((a, b) => a.logIndex - b.logIndex)
      }
      this.options.log(`block ${block.number}: ${wrongBlock ? 'logs of another block' : 'bloom says logs but none came'}; refetching`)
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)))
    }
    throw new Error(`block ${block.number} (${block.hash}): the upstream keeps answering inconsistent logs; not stored`)
  }

  private async updateFinality(latestNumber: number): Promise<void> {
    let finalized = latestNumber - this.confirmations()
    try {
      const block = await this.block('finalized')
      if (block) finalized = Number(block.number)
    } catch {
      // No 'finalized' tag (older nodes, some L2s): the confirmation depth stands in.
    }
    const cursor = this.store.cursor()
    if (!cursor || finalized <= cursor.finalized) return
    this.store.setFinalized(finalized)
    this.emit('finalized', finalized)
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`

function isRawLog(value: unknown): value is RawLog {
  const log = value as Partial<RawLog> | null
  return (
    typeof log === 'object' &&
    log !== null &&
    typeof log.blockHash === 'string' &&
    typeof log.transactionHash === 'string' &&
    typeof log.address === 'string' &&
    typeof log.data === 'string' &&
    typeof log.logIndex === 'string' &&
    typeof log.transactionIndex === 'string' &&
    Array.isArray(log.topics) &&
    log.topics.every((t) => typeof t === 'string')
  )
}
