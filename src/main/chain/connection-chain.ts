/**
 * One connection's chain for as long as this instance runs the connection, whoever keeps it:
 * its own ChainTracker while it captures, a FollowedChain while another instance sharing the
 * store does, nobody between turns. Watches (a /v1/stream or /v1/rpc client's, which have no
 * turns) hold this, so a change of turn is not an end: their filters are registered with each
 * new keeper, and if the new keeper's canonical chain differs from what the last one held,
 * the difference is announced as a reorg (what a client saw is taken back, then replaced).
 */
import { EventEmitter } from 'node:events'
import type { BlockWithLogs, ChainReads, Cursor, LogFilter } from '../store/chain-store'
import type { ChainView, ChainViewEvents, FilterRegistration } from './chain-view'

interface Held {
  filter: LogFilter
  keep: boolean
  inner: FilterRegistration | null
  released: boolean
  resolve: () => void
}

const EVENTS = ['blocks', 'reorg', 'finalized', 'trouble', 'activated'] as const

/** Reads of a chain nobody keeps yet: nothing stored. */
const NOTHING: ChainReads = {
  cursor: () => undefined,
  oldestCanonical: () => undefined,
  blockAt: () => undefined,
  canonicalHash: () => undefined,
  canonicalRange: () => [],
  branchOf: () => ({ state: 'unknown' }),
  canonicalLogs: () => [],
}

/** The canonical blocks a keeper held when its turn ended: what watches may have been given. */
interface HeldChain {
  cursor: Cursor
  blocks: Map<number, BlockWithLogs>
}

export class ConnectionChain extends EventEmitter<ChainViewEvents> implements ChainView {
  private source: ChainView | null = null
  /** The last keeper's chain as its turn ended, compared with the next keeper's (a watch outlives both). */
  private lastHeld: HeldChain | null = null
  private readonly held = new Set<Held>()
  private promptHolds = 0
  private releasePrompt: (() => void) | null = null
  private readonly forwarders = EVENTS.map((event) => ({ event, forward: (...args: unknown[]) => this.emit(event, ...(args as [never, never])) }))

  constructor(private readonly noSource: () => Error) {
    super()
    // Every watch listens: many listeners are the design, not a leak.
    this.setMaxListeners(0)
  }

  get store(): ChainReads {
    return this.source?.store ?? NOTHING
  }

  get cursor(): Cursor | undefined {
    return this.source?.cursor
  }

  /** Who keeps the chain now (null between turns). */
  get keeper(): ChainView | null {
    return this.source
  }

  chainId(): Promise<number> {
    return this.source ? this.source.chainId() : Promise.reject(this.noSource())
  }

  poke(): void {
    this.source?.poke()
  }

  registerFilter(filter: LogFilter, options: { keep?: boolean } = {}): FilterRegistration {
    let resolve!: () => void
    const ready = new Promise<void>((r) => (resolve = r))
    const held: Held = { filter, keep: options.keep ?? false, inner: null, released: false, resolve }
    this.held.add(held)
    if (this.source) this.registerWith(this.source, held)
    return {
      filter,
      get active() {
        return held.inner?.active ?? false
      },
      ready,
      release: () => {
        held.released = true
        this.held.delete(held)
        held.inner?.release()
        held.inner = null
      },
    }
  }

  wantPromptFinality(): () => void {
    this.promptHolds += 1
    if (this.promptHolds === 1 && this.source) this.releasePrompt = this.source.wantPromptFinality()
    let released = false
    return () => {
      if (released) return
      released = true
      this.promptHolds -= 1
      if (this.promptHolds === 0) {
        this.releasePrompt?.()
        this.releasePrompt = null
      }
    }
  }

  /** The connection stops running here: no keeper comes again, and every watch on it ends (ChainViewEvents.closed). */
  close(): void {
    this.setSource(null)
    this.lastHeld = null
    this.emit('closed')
  }

  /**
   * The keeper changes (null: between turns). The new one's chain is compared with the last
   * one's: blocks the last one held canonical that the new one does not are announced as
   * orphaned first. Filters are registered with the new keeper, inactive until it holds them.
   */
  setSource(next: ChainView | null): void {
    const previous = this.source
    if (previous === next) return
    if (previous) {
      for (const { event, forward } of this.forwarders) previous.off(event, forward)
      // Taken now: whatever the old keeper does while it stops is not heard by any watch.
      this.lastHeld = heldChain(previous.store)
    }
    this.releasePrompt?.()
    this.releasePrompt = null
    for (const held of this.held) {
      held.inner?.release()
      held.inner = null
    }
    this.source = next
    if (!next) return
    if (this.lastHeld) this.announceDifference(this.lastHeld, next.store)
    this.lastHeld = null
    for (const { event, forward } of this.forwarders) next.on(event, forward)
    if (this.promptHolds > 0) this.releasePrompt = next.wantPromptFinality()
    for (const held of this.held) this.registerWith(next, held)
  }

  private registerWith(source: ChainView, held: Held): void {
    const inner = source.registerFilter(held.filter, { keep: held.keep })
    held.inner = inner
    void inner.ready.then(() => {
      if (held.inner !== inner || held.released) return
      held.resolve()
      // A watch that waited for the new keeper delivers what it holds.
      this.emit('activated')
    })
  }

  /** What `before` held canonical and `after` does not, announced as a reorg (newest first, down to where both agree). */
  private announceDifference(before: HeldChain, after: ChainReads): void {
    const top = before.cursor.number
    const bottom = Math.min(...before.blocks.keys())
    const theirs = after.cursor()
    // Final blocks `after` pruned cannot have moved; above its cursor it holds nothing canonical (orphaned since, or never stored).
    const agrees = (n: number): boolean => {
      if (!theirs || n > theirs.number) return false
      const hash = after.canonicalHash(n)
      return hash === undefined ? n <= theirs.finalized : hash === before.blocks.get(n)?.block.hash
    }
    let n = top
    while (n >= bottom && !agrees(n)) n -= 1
    if (n === top) return
    const orphaned: BlockWithLogs[] = []
    for (let m = top; m > n; m--) {
      const held = before.blocks.get(m)
      if (held) orphaned.push(held)
    }
    if (orphaned.length === 0) return
    const ancestor = { number: n, hash: before.blocks.get(n)?.block.hash ?? orphaned.at(-1)!.block.parentHash }
    this.emit('reorg', orphaned, ancestor)
  }
}

/** A keeper's canonical blocks, from its oldest held to its cursor; null when it held none. */
function heldChain(store: ChainReads): HeldChain | null {
  const cursor = store.cursor()
  if (!cursor) return null
  const blocks = store.canonicalRange(store.oldestCanonical() ?? cursor.number, cursor.number)
  if (blocks.length === 0) return null
  return { cursor, blocks: new Map(blocks.map((b) => [b.block.number, b])) }
}
