/**
 * The canonical chain as Tidewatch knows it, for one connection. Processes blocks strictly
 * in order from its persisted cursor: each header is checked against its parent, stored with
 * the logs that the registered filters match, then announced. The header is the newHeads
 * notification itself when it extends the cursor; a block is fetched by number only to fill
 * a gap or walk a fork. A parent mismatch (or a different hash at the cursor's height) is a
 * reorg: walk back to the common ancestor, orphan what is above it, announce the orphaned
 * blocks, and continue on the new branch. Gaps of any length (a dropped socket, a restart)
 * are filled block by block from the cursor. Anvil's silence about `removed: true` does not
 * matter: reorgs are found from parent hashes.
 *
 * Cost follows what is watched: with no filter registered the tracker asks for no logs at
 * all; with filters, one eth_getLogs per block carrying their union. Invariant: for every
 * canonical non-final block held, chain_logs holds every log matching any registered
 * filter, because a filter becomes active only after its matches in that range are stored.
 */
import { EventEmitter } from 'node:events'
import type { ConnectionPool } from '../upstream/connection-pool'
import type { LogFilter } from './watch-types'
import { backfillRange } from './backfill-range'
import { toChainLog, type ChainBlock, type ChainLog, type ChainStore, type RawLog } from '../store/chain-store'
import type { ChainView, ChainViewEvents, FilterRegistration, TrackedBlock } from './chain-view'
import { matchesAny, rpcFilter, unionFilter } from './log-filter'
import { bloomMayMatch } from './logs-bloom'
import { upstreamChainId } from './upstream-chain-id'
import { isRateLimit } from '../upstream/rpc-errors'

export interface TrackerOptions {
  /** The connection's blocks, logs and cursor; its write gate holds block appends until the events writer thread is idle. */
  store: ChainStore
  pool: ConnectionPool
  /** Finality depth where the upstream has no 'finalized' tag (PROTOCOL: default 64); a function when it depends on the chain, learnt after connecting. */
  confirmations?: number | (() => number)
  /** Forks deeper than this are reported, not applied. */
  maxReorgDepth?: number
  /** Pruning of final chain data runs this often (ms); 0 turns it off. */
  pruneIntervalMs?: number
  log: (message: string) => void
}

interface Registration {
  filter: LogFilter
  /** Its logs stay in the store after finality (the watchlist reads them from there). */
  keep: boolean
  /** A follower's filter (ChainStore.sharedFilters): its row is marked active with its logs. */
  sharedId?: number
  active: boolean
  released: boolean
  resolve: () => void
}

/** Final-chain pruning: rows per transaction, with the event loop free between batches. */
const PRUNE_BATCH = 500
/** Announced blocks stored in one transaction when the chain is ahead (their logs are asked for together). */
const STORE_GROUP = 16
/** 'finalized' is asked at most this often (blocks, ms): finality moves once per epoch on Ethereum. */
const FINALITY_EVERY_BLOCKS = 32
const FINALITY_EVERY_MS = 60_000
/** A rate-limited request is asked this many times in all, 250 ms, 0.5, 1, 2 and 4 s apart, before the sync fails. */
const RATE_LIMIT_TRIES = 6
/** Bloom says logs may match but none came: a false positive is legitimate, after this many asks. */
const EMPTY_ANSWER_ATTEMPTS = 3

export type { FilterRegistration, TrackedBlock }

interface RawBlock {
  number: string
  hash: string
  parentHash: string
  timestamp: string
  logsBloom?: string
  [key: string]: unknown
}

const EMPTY_BLOOM = /^0x0*$/

export class ChainTracker extends EventEmitter<ChainViewEvents> implements ChainView {
  readonly store: ChainStore
  private syncing: Promise<void> | null = null
  private again = false
  private stopped = false
  private readonly confirmations: () => number
  private readonly maxReorgDepth: number
  private retryTimer: NodeJS.Timeout | null = null
  private readonly registrations = new Set<Registration>()
  /** newHeads notifications not processed yet, by number. */
  private readonly announced = new Map<number, RawBlock>()
  private finalityAskedAt = { number: -Infinity, time: -Infinity }
  private promptFinality = 0
  private pruneTimer: NodeJS.Timeout | null = null
  private pruning = false
  /** Groups handed to the store, each announced once committed, in order (appendAndAnnounce). */
  private announcing: Promise<void> = Promise.resolve()
  /** Rejects at stop(): a sync waiting for a commit the store keeps refusing ends then. */
  private readonly stopping: Promise<never>
  private stopWaiting!: (reason: Error) => void
  /** Followers' filters registered here, by their id in the store. */
  private readonly shared = new Map<number, FilterRegistration>()
  /** Held while a follower asks for prompt finality (wantPromptFinality's release). */
  private sharedPrompt: (() => void) | null = null
  private readonly unlistenShared: () => void

  constructor(private readonly options: TrackerOptions) {
    super()
    // Every watch listens (up to 1,000 per client connection): many listeners are the design, not a leak.
    this.setMaxListeners(0)
    this.stopping = new Promise<never>((_, reject) => (this.stopWaiting = reject))
    this.stopping.catch(() => undefined)
    this.store = options.store
    const confirmations = options.confirmations ?? 64
    this.confirmations = typeof confirmations === 'function' ? confirmations : () => confirmations
    this.maxReorgDepth = options.maxReorgDepth ?? 256
    const every = options.pruneIntervalMs ?? 5_000
    if (every > 0) this.pruneTimer = setInterval(() => void this.prune(), every).unref()
    this.unlistenShared = this.store.onSharedFiltersChanged(() => this.syncSharedFilters())
    // Registered before the first sync, which activates them before it stores a block (a takeover goes on fetching them).
    this.syncSharedFilters(false)
  }

  /** Other instances' filters (PostgreSQL's followers): fetched and stored as this instance's own watches' are. */
  private syncSharedFilters(poke = true): void {
    if (this.stopped) return
    const shared = this.store.sharedFilters()
    // An irreversible_only client of another instance: finality asked on every sync while one is there.
    const prompt = shared.some((s) => s.promptFinality)
    if (prompt && !this.sharedPrompt) this.sharedPrompt = this.wantPromptFinality()
    else if (!prompt && this.sharedPrompt) {
      this.sharedPrompt()
      this.sharedPrompt = null
    }
    const wanted = new Map(shared.flatMap((s) => (s.filter ? [[s.id, s.filter] as const] : [])))
    for (const [id, registration] of this.shared)
      if (!wanted.has(id)) {
        registration.release()
        this.shared.delete(id)
      }
    for (const [id, filter] of wanted) if (!this.shared.has(id)) this.shared.set(id, this.register(filter, false, id, poke))
  }

  /**
   * A watch's filter. It becomes active inside the serialized sync, after its logs in the
   * stored non-final canonical range are fetched (one eth_getLogs range) and stored; the
   * watch serves from the store only after `ready`. `keep`: its logs outlive finality.
   */
  registerFilter(filter: LogFilter, options: { keep?: boolean } = {}): FilterRegistration {
    return this.register(filter, options.keep ?? false)
  }

  private register(filter: LogFilter, keep: boolean, sharedId?: number, poke = true): FilterRegistration {
    let resolve!: () => void
    const ready = new Promise<void>((r) => (resolve = r))
    const registration: Registration = { filter, keep, active: false, released: false, resolve, ...(sharedId !== undefined ? { sharedId } : {}) }
    this.registrations.add(registration)
    if (poke) this.poke()
    return {
      filter,
      get active() {
        return registration.active
      },
      ready,
      release: () => {
        registration.released = true
        this.registrations.delete(registration)
      },
    }
  }

  /**
   * An irreversible_only watch waits for finality to move: while one is open, 'finalized' is
   * asked on every sync instead of every 32 blocks or 60 s. Returns the release.
   */
  wantPromptFinality(): () => void {
    this.promptFinality += 1
    let released = false
    return () => {
      if (!released) this.promptFinality -= 1
      released = true
    }
  }

  /** The filters blocks are fetched for now. */
  activeFilters(): LogFilter[] {
    return [...this.registrations].filter((r) => r.active).map((r) => r.filter)
  }

  /** A newHeads notification: the header to use as is when it extends the cursor. */
  noteHead(raw: unknown): void {
    if (isRawBlock(raw)) {
      const number = Number(raw.number)
      this.announced.set(number, raw)
      // Bounded: a stalled tracker must not collect every notification.
      if (this.announced.size > 1_024) this.announced.delete(Math.min(...this.announced.keys()))
    }
    this.poke()
  }

  get cursor() {
    return this.store.cursor()
  }

  /** The upstream's chain id (eth_chainId), asked once; a failed answer is asked again next time. */
  readonly chainId: () => Promise<number> = upstreamChainId(() => this.request<unknown>('eth_chainId', []))

  /** Asks the tracker to catch up with the upstream's head; calls coalesce. */
  poke(): void {
    if (this.stopped) return
    if (this.syncing) {
      this.again = true
      return
    }
    this.syncing = this.sync()
      .catch((error: unknown) => {
        if (this.stopped) return
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
    this.unlistenShared()
    this.stopWaiting(new Error('the tracker stopped'))
    if (this.retryTimer) clearTimeout(this.retryTimer)
    if (this.pruneTimer) clearInterval(this.pruneTimer)
  }

  /**
   * Waits for the store to commit a write (the events writer thread commits the tracker's
   * rows in order with captured ones), or for stop(): while the store refuses writes the
   * rows stay queued and are retried, and the sync waits for them rather than going past.
   */
  private committed<T>(write: Promise<T>): Promise<T> {
    return Promise.race([write, this.stopping])
  }

  /**
   * Removes what finality made useless, in small batches with the event loop free between
   * them so capture never waits long: orphaned final blocks (a cursor naming one then gets
   * invalid_cursor unknown_block), final canonical headers below the finalized block, and
   * final canonical logs no kept filter wants (watches serve final blocks from the upstream).
   */
  async prune(): Promise<number> {
    if (this.pruning || this.stopped) return 0
    this.pruning = true
    let total = 0
    try {
      const finalized = this.store.cursor()?.finalized ?? -1
      // Captured rows the store refuses for now (locked, full) wait in memory: prune another time.
      if (finalized < 0 || !(await this.store.settled())) return 0
      const kept = [...this.registrations].filter((r) => r.keep).map((r) => r.filter)
      for (;;) {
        if (this.stopped) break
        const { rows, done } = await this.store.pruneFinal(finalized, PRUNE_BATCH, (log) => matchesAny(log, kept))
        total += rows
        if (done) break
        await new Promise((resolve) => setImmediate(resolve))
      }
    } catch (error) {
      this.options.log(`pruning final chain data failed, will retry: ${error instanceof Error ? error.message : String(error)}`)
    } finally {
      this.pruning = false
    }
    return total
  }

  /**
   * A request to the upstream. A rate limit is waited out (a free tier throttles the bursts a
   * first run or a catch-up asks for: headers and logs of up to 32 blocks at once) rather than
   * failing the sync; any other failure is the sync's to handle.
   */
  private async request<T>(method: string, params: unknown[]): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.options.pool.request<T>(method, params, 30_000)
      } catch (error) {
        if (!isRateLimit(error) || attempt + 1 >= RATE_LIMIT_TRIES || this.stopped) throw error
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt))
      }
    }
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
    // A sync that failed may have left appends in flight: the store's cursor must be theirs first.
    await this.allAnnounced()
    await this.activateFilters()
    // The newest notification says where the head is; only without one (a reconnect, a retry) ask.
    const newest = Math.max(...this.announced.keys())
    const latest = Number.isFinite(newest) ? this.announced.get(newest)! : await this.block('latest')
    if (!latest) return
    const latestNumber = Number(latest.number)
    let cursor = this.store.cursor()
    if (!cursor) {
      // First run on this connection: tracking starts at the oldest block that is not final, so
      // a reorg right after the start is within reach; older history is final, served from eth_getLogs.
      const first = await this.firstTrackedBlock(latestNumber)
      const anchor = first === latestNumber ? latest : await this.block(hex(first))
      if (!anchor) return
      await this.processBlock(anchor, first)
      this.forgetAnnounced(first)
      cursor = this.store.cursor()!
    }
    // The upstream's head is at or below ours: a replaced tip (same-height reorg) or a lagging node.
    if (latestNumber <= cursor.number) {
      const theirs = latestNumber === cursor.number ? latest : await this.block(hex(cursor.number))
      // A lagging node has no block at our height yet: not a reorg, just wait for it.
      if (theirs && theirs.hash.toLowerCase() !== cursor.hash) await this.handleFork(cursor.number)
      else if (latestNumber < cursor.number - this.maxReorgDepth)
        this.options.log(`upstream head ${latestNumber} is far below ours (${cursor.number}); waiting for the node to catch up`)
      cursor = this.store.cursor()!
    }
    // Announced blocks that chain from the cursor have their logs asked for ahead, and are
    // stored a group at a time in one transaction: catching up (a restart, a fast chain) costs
    // one commit per group, the next group's round trips overlap this group's work, and the
    // next group is handed to the store while this one commits (each announced once committed).
    const ahead: { raw: RawBlock; logs: Promise<ChainLog[]> }[] = []
    while (!this.stopped && cursor.number < latestNumber) {
      if (ahead.length === 0) await this.askHeaders(cursor.number + 1, latestNumber)
      this.fetchAhead(ahead, cursor, latestNumber)
      if (ahead.length > 0) {
        const group: TrackedBlock[] = []
        for (const fetched of ahead.splice(0, STORE_GROUP)) group.push({ block: chainBlock(fetched.raw), logs: await fetched.logs })
        this.appendAndAnnounce(group, cursor.firstBlock)
        const last = group.at(-1)!.block
        cursor = { ...cursor, number: last.number, hash: last.hash }
        continue
      }
      // What follows reads the store (forks, blocks by number): every group handed to it first.
      await this.allAnnounced()
      cursor = this.store.cursor()!
      // A notification from a branch that lost, or none after a gap: ask the upstream by number.
      this.announced.delete(cursor.number + 1)
      const next = await this.block(hex(cursor.number + 1))
      if (!next) break
      if (next.parentHash.toLowerCase() !== cursor.hash) await this.handleFork(cursor.number)
      else await this.processBlock(next, cursor.firstBlock)
      cursor = this.store.cursor()!
    }
    await this.allAnnounced()
    this.forgetAnnounced(cursor.number)
    await this.updateFinality(latestNumber)
  }

  /**
   * Hands a group of blocks to the store and announces it once committed, after every group
   * handed before it: a client never hears of a block (nor gets a cursor on it) that a crash
   * could take from the store, yet the store commits one group while the next is prepared.
   */
  private appendAndAnnounce(group: TrackedBlock[], firstBlock: number): void {
    const stored = this.store.appendBlocks(group, firstBlock)
    // Surfaces through `announcing`, where the sync waits for it.
    stored.catch(() => undefined)
    this.announcing = this.announcing
      .then(() => this.committed(stored))
      .then(() => {
        this.emit('blocks', group)
      })
  }

  /** Waits until every group handed to the store is committed and announced; a failed commit throws here, once. */
  private async allAnnounced(): Promise<void> {
    const announcing = this.announcing
    try {
      await announcing
    } finally {
      if (this.announcing === announcing) this.announcing = Promise.resolve()
    }
  }

  private forgetAnnounced(through: number): void {
    for (const number of this.announced.keys()) if (number <= through) this.announced.delete(number)
  }

  /**
   * Filters registered since the last sync: their logs in the stored non-final canonical
   * range, by one eth_getLogs range query, checked block by block against the stored hashes.
   */
  private async activateFilters(): Promise<void> {
    for (const registration of [...this.registrations]) {
      if (registration.active || registration.released) continue
      const cursor = this.store.cursor()
      const from = cursor ? Math.max(cursor.firstBlock, cursor.finalized + 1) : 0
      const completes = registration.sharedId === undefined ? [] : [registration.sharedId]
      if (!cursor || from > cursor.number) await this.committed(this.store.insertLogs([], completes))
      else {
        const logs: ChainLog[] = []
        const filter = rpcFilter(registration.filter)
        for await (const range of backfillRange(
          (a, b) => this.request<unknown>('eth_getLogs', [{ ...filter, fromBlock: hex(a), toBlock: hex(b) }]).then(checkedLogs),
          from,
          cursor.number,
        )) {
          for (const raw of range.items) {
            const log = toChainLog(raw)
            if (this.store.canonicalHash(log.blockNumber) !== log.blockHash) {
              // The upstream is on another branch than the store: let the next sync find the fork, then try again.
              this.options.log(
                `block ${log.blockNumber}: the upstream's logs name another block than the stored one (a reorg in flight); registering the filter again shortly`,
              )
              if (!this.retryTimer && !this.stopped) this.retryTimer = setTimeout(() => ((this.retryTimer = null), this.poke()), 500).unref()
              return
            }
            logs.push(log)
          }
        }
        await this.committed(this.store.insertLogs(logs, completes))
      }
      registration.active = true
      registration.resolve()
    }
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
    const orphaned = await this.committed(this.store.orphanAbove(ancestor))
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
    // Final blocks below the finalized one are pruned: the oldest stored one anchors.
    const first = this.store.oldestCanonical() ?? this.store.cursor()!.firstBlock
    const ours = this.store.blockAt(first)
    const theirs = await this.block(hex(first))
    if (!ours || !theirs) throw new Error(`cannot compare block ${first} with the upstream`)
    if (theirs.parentHash.toLowerCase() !== ours.parentHash) {
      this.options.log(
        `fork older than the first tracked block ${first}: re-anchoring on the upstream's branch; events delivered below it cannot be taken back`,
      )
    }
    return { number: first - 1, hash: theirs.parentHash.toLowerCase() }
  }

  /**
   * The first run's first block: the one after the finalized block (the confirmation depth
   * where the upstream has no 'finalized' tag), no deeper than a fork this tracker applies,
   * and the head when that is final already.
   */
  private async firstTrackedBlock(latest: number): Promise<number> {
    let finalized = latest - this.confirmations()
    try {
      const block = await this.block('finalized')
      if (block) finalized = Number(block.number)
    } catch {
      // No 'finalized' tag: the confirmation depth stands in.
    }
    return Math.min(latest, Math.max(0, finalized + 1, latest - this.maxReorgDepth))
  }

  /**
   * Headers the tracker has no notification of (a gap: a first run, a restart, a dropped
   * socket), up to two groups from `from`, asked for together rather than one round trip
   * each; they join the notifications, where fetchAhead checks that each chains from the
   * last. A header missing or from another branch is asked again by number, as before.
   */
  private async askHeaders(from: number, latest: number): Promise<void> {
    const missing: number[] = []
    for (let n = from; n <= Math.min(latest, from + 2 * STORE_GROUP - 1); n++) if (!this.announced.has(n)) missing.push(n)
    if (missing.length === 0) return
    const headers = await Promise.all(missing.map((n) => this.block(hex(n))))
    headers.forEach((header, i) => {
      const n = missing[i]!
      // Only the block asked for (a peer's other numbers are not kept); a notification that came meanwhile is the newer word.
      if (header && Number(header.number) === n && !this.announced.has(n)) this.announced.set(n, header)
    })
  }

  /**
   * Extends `ahead` (blocks after the cursor, in order) with announced blocks that chain from
   * its last one, up to two groups, asking for each one's logs at once. A failed request
   * surfaces when (and only if) its logs are used.
   */
  private fetchAhead(ahead: { raw: RawBlock; logs: Promise<ChainLog[]> }[], cursor: { number: number; hash: string }, latest: number): void {
    let tip = ahead.at(-1)?.raw.hash.toLowerCase() ?? cursor.hash
    for (let n = cursor.number + 1 + ahead.length; ahead.length < 2 * STORE_GROUP && n <= latest; n++) {
      const raw = this.announced.get(n)
      if (!raw || raw.parentHash.toLowerCase() !== tip) return
      this.announced.delete(n)
      const logs = this.fetchLogs(chainBlock(raw), raw.logsBloom)
      logs.catch(() => undefined)
      ahead.push({ raw, logs })
      tip = raw.hash.toLowerCase()
    }
  }

  private async processBlock(raw: RawBlock, firstBlock: number): Promise<void> {
    const block = chainBlock(raw)
    const logs = await this.fetchLogs(block, raw.logsBloom)
    await this.committed(this.store.appendBlocks([{ block, logs }], firstBlock))
    this.emit('blocks', [{ block, logs }])
  }

  /**
   * The block's logs that the registered filters match: one eth_getLogs by block hash with
   * their union, none at all when nothing is registered. Cross-checked: logs of another
   * block mean the node answered from a different view (refetch; in the end, fail); an empty
   * answer where the block's bloom says the union may match is asked again, then accepted
   * with a note, since blooms have false positives.
   */
  private async fetchLogs(block: ChainBlock, bloom: string | undefined): Promise<ChainLog[]> {
    const filters = this.activeFilters()
    if (filters.length === 0) return []
    const union = unionFilter(filters)
    const mayMatch = bloom !== undefined && !EMPTY_BLOOM.test(bloom) && bloomMayMatch(bloom, union)
    for (let attempt = 0; attempt < 5; attempt++) {
      const raw = checkedLogs(await this.request<unknown>('eth_getLogs', [{ blockHash: block.hash, ...rpcFilter(union) }]), block.number)
      const wrongBlock = raw.some((log) => log.blockHash.toLowerCase() !== block.hash)
      const missing = raw.length === 0 && mayMatch
      if (!wrongBlock && (!missing || attempt + 1 >= EMPTY_ANSWER_ATTEMPTS)) {
        if (missing)
          this.options.log(
            `block ${block.number}: its bloom allows logs for the watched filters but the upstream answered none ${EMPTY_ANSWER_ATTEMPTS} times; taken as a bloom false positive`,
          )
        return raw
          .map((log) => {
            // The raw object stays as received; only a missing blockNumber is filled in, so clients can place the log.
            const complete = log.blockNumber === undefined ? { ...log, blockNumber: hex(block.number) } : log
            return { ...toChainLog(complete), blockHash: block.hash, blockNumber: block.number }
          })
          .filter((log) => matchesAny(log, filters))
          .sort((a, b) => a.logIndex - b.logIndex)
      }
      this.options.log(`block ${block.number}: ${wrongBlock ? 'logs of another block' : 'bloom says logs but none came'}; refetching`)
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)))
    }
    throw new Error(`block ${block.number} (${block.hash}): the upstream keeps answering inconsistent logs; not stored`)
  }

  private async updateFinality(latestNumber: number): Promise<void> {
    const now = Date.now()
    const due =
      this.promptFinality > 0 || latestNumber - this.finalityAskedAt.number >= FINALITY_EVERY_BLOCKS || now - this.finalityAskedAt.time >= FINALITY_EVERY_MS
    if (!due) return
    this.finalityAskedAt = { number: latestNumber, time: now }
    let finalized = latestNumber - this.confirmations()
    try {
      const block = await this.block('finalized')
      if (block) finalized = Number(block.number)
    } catch {
      // No 'finalized' tag (older nodes, some L2s): the confirmation depth stands in.
    }
    const cursor = this.store.cursor()
    if (!cursor || finalized <= cursor.finalized) return
    await this.committed(this.store.setFinalized(finalized))
    this.emit('finalized', finalized)
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`

/** The header as received; a block's body lists are not part of it (newHeads and the head message carry none). */
function chainBlock(raw: RawBlock): ChainBlock {
  const { transactions: _t, uncles: _u, withdrawals: _w, ...header } = raw
  return { number: Number(raw.number), hash: raw.hash.toLowerCase(), parentHash: raw.parentHash.toLowerCase(), timestamp: Number(raw.timestamp), header }
}

function isRawBlock(value: unknown): value is RawBlock {
  const b = value as Partial<RawBlock> | null
  const hash32 = (v: unknown) => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v)
  return (
    typeof b === 'object' &&
    b !== null &&
    hash32(b.hash) &&
    hash32(b.parentHash) &&
    typeof b.number === 'string' &&
    /^0x[0-9a-fA-F]+$/.test(b.number) &&
    typeof b.timestamp === 'string'
  )
}

function checkedLogs(answer: unknown, block?: number): RawLog[] {
  if (Array.isArray(answer) && answer.every(isRawLog)) return answer
  throw new Error(`the upstream answered eth_getLogs${block === undefined ? '' : ` for block ${block}`} with something that is not a list of logs`)
}

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
