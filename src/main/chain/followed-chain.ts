/**
 * A connection's chain as another instance sharing the store captures it (issue 13): no
 * socket subscription, no eth_getLogs of its own. Whenever the change feed says the
 * capturer committed a change, the followed store catches up (one snapshot of what was
 * stored) and this announces it as the tracker would: reorgs, new blocks, finality. A
 * watch's filter is registered in the store; the capturer fetches its logs and marks it
 * active in the transaction that stores them, and the watch serves from the window then.
 */
import { EventEmitter } from 'node:events'
import type { Cursor, FollowedChainStore, LogFilter } from '../store/chain-store'
import type { ChainView, ChainViewEvents, FilterRegistration } from './chain-view'
import { ProblemLog } from '../upstream/problem-log'

export interface FollowedChainOptions {
  /** The upstream's chain id (the cursors name it). */
  chainId: () => Promise<number>
  log: (message: string) => void
  /** The first wait before a failed catch-up is tried again (doubled up to 10 s). */
  retryMs?: number
}

interface Followed {
  key: number
  active: boolean
  released: boolean
  resolve: () => void
}

export class FollowedChain extends EventEmitter<ChainViewEvents> implements ChainView {
  private readonly registrations = new Set<Followed>()
  /** Keys of this chain's asks for prompt finality. */
  private readonly prompts = new Set<number>()
  private catchingUp: Promise<void> | null = null
  private again = false
  private failures = 0
  private retryTimer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly unlisten: () => void
  /** A store that stays unreachable is said once a minute, not at every retry. */
  private readonly problems: ProblemLog

  constructor(
    readonly store: FollowedChainStore,
    private readonly options: FollowedChainOptions,
  ) {
    super()
    // Every watch listens: many listeners are the design, not a leak.
    this.setMaxListeners(0)
    this.problems = new ProblemLog(options.log)
    this.unlisten = store.onChanged(() => this.poke())
  }

  get cursor(): Cursor | undefined {
    return this.store.cursor()
  }

  chainId(): Promise<number> {
    return this.options.chainId()
  }

  registerFilter(filter: LogFilter): FilterRegistration {
    let resolve!: () => void
    const ready = new Promise<void>((r) => (resolve = r))
    const followed: Followed = { key: this.store.shareFilter(filter), active: false, released: false, resolve }
    this.registrations.add(followed)
    return {
      filter,
      get active() {
        return followed.active
      },
      ready,
      release: () => {
        if (followed.released) return
        followed.released = true
        this.registrations.delete(followed)
        this.store.unshare(followed.key)
      },
    }
  }

  /** Finality moves when the capturer learns it: the capturer is asked to ask on every block while this is held. */
  wantPromptFinality(): () => void {
    const key = this.store.sharePromptFinality()
    this.prompts.add(key)
    return () => {
      if (this.prompts.delete(key)) this.store.unshare(key)
    }
  }

  /** Catches up with the store; calls coalesce. */
  poke(): void {
    if (this.stopped) return
    if (this.catchingUp) {
      this.again = true
      return
    }
    this.catchingUp = this.catchUp()
      .then(() => {
        this.failures = 0
      })
      .catch((error: unknown) => {
        if (this.stopped) return
        const message = `following the stored chain: ${error instanceof Error ? error.message : String(error)}; trying again`
        this.problems.report(message)
        this.emit('trouble', message)
        const wait = Math.min((this.options.retryMs ?? 250) * 2 ** this.failures++, 10_000)
        clearTimeout(this.retryTimer)
        this.retryTimer = setTimeout(() => this.poke(), wait).unref()
      })
      .finally(() => {
        this.catchingUp = null
        if (this.again) {
          this.again = false
          this.poke()
        }
      })
  }

  /** Resolves when no catch-up is running (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.catchingUp) await this.catchingUp
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.unlisten()
    await this.idle()
    for (const followed of this.registrations) this.store.unshare(followed.key)
    for (const key of this.prompts) this.store.unshare(key)
    this.registrations.clear()
    this.prompts.clear()
    await this.store.close()
  }

  private async catchUp(): Promise<void> {
    const apply = await this.store.catchUp()
    if (this.stopped) return
    // Applied and announced in one step: no watch reads a window whose changes it has not heard of.
    const changes = apply()
    if (changes.ancestor && changes.orphaned.length > 0) this.emit('reorg', changes.orphaned, changes.ancestor)
    if (changes.appended.length > 0) this.emit('blocks', changes.appended)
    if (changes.finalized !== null) this.emit('finalized', changes.finalized)
    let activated = false
    for (const followed of this.registrations) {
      const active = changes.activeFilters.has(followed.key)
      if (active && !followed.active) {
        activated = true
        followed.resolve()
      }
      followed.active = active
    }
    if (activated) this.emit('activated')
  }
}
