/**
 * The person's subscriptions: saved specs, each run on its live connection as a watch
 * capture (logs, newHeads: from the chain tracker, resumable by cursor) or a subscription
 * runner (pending, mined, syncing: native or emulated), captured into its stream.
 */
import type { Subscription, WatchOptions } from '../../shared/contract'
import { watchOptionsSchema } from '../../shared/contract'
import type { SubscriptionSpec } from '../../shared/subscription-params'
import { createTrackerWatchProvider } from '../chain/tracker-watch'
import type { EngineStore } from '../store/engine-store'
import type { StoredSubscription } from '../store/subscription-store'
import { SubscriptionRunner } from '../subscriptions/subscription-runner'
import { WatchCapture } from '../subscriptions/watch-capture'
import type { ConnectionsService } from './connections-service'
import { NotFoundError } from './not-found-error'
import { traceStart } from '../start-trace'

export interface NewSubscription {
  connectionId: number
  spec: SubscriptionSpec
  label?: string | undefined
  watch?: WatchOptions | undefined
}

/** Ids counted per slice at start: about 5 ms each on the bench machine, so live-log pages asked meanwhile wait little. */
const COUNT_SLICE = 20_000

export class SubscriptionsService {
  private readonly runners = new Map<number, SubscriptionRunner | WatchCapture>()
  /** Events captured per stream and when the last arrived, counted as they commit. */
  private readonly streamCounters: Map<number, { count: number; lastAt: number | null }>
  /** Bumped to abandon a count of the stored rows still running (recount). */
  private countGeneration = 0
  /** Subscriptions stopped because the writes held in memory reached their cap (storage fault). */
  private suspended: number[] = []
  /** The subscriptions the UI was last told of by sync(), to announce those another instance removed. */
  private announced = new Set<number>()

  constructor(
    private readonly store: Pick<EngineStore, 'subscriptions' | 'events'>,
    private readonly connections: Pick<ConnectionsService, 'get' | 'capturingConnection' | 'liveConnection'>,
    private readonly options: { syncingPollMs?: number | undefined },
    private readonly changed: (subscription: Subscription | null, removedId: number | null) => void,
    private readonly log: (message: string) => void,
  ) {
    this.streamCounters = new Map()
    this.announced = new Set(store.subscriptions.list().map((subscription) => subscription.id))
    void this.countStored()
  }

  /**
   * The rows stored before this start, counted a slice of ids at a time after the engine is
   * up (a store of ten million events takes seconds to count, and the first page must not
   * wait for it); rows committed meanwhile are counted as they commit (countCommitted). The
   * subscriptions are announced again with their counts when it is done.
   */
  private async countStored(): Promise<void> {
    const generation = ++this.countGeneration
    const totals = new Map<number, number>()
    const lastAt = new Map<number, number | null>()
    let upTo = 0
    try {
      upTo = await this.store.events.lastId()
      traceStart(`subscriptions: counting the stored rows up to id ${upTo}`)
      for (let after = 0; after < upTo; after += COUNT_SLICE) {
        await new Promise((resolve) => setImmediate(resolve))
        if (generation !== this.countGeneration) return
        for (const [streamId, n] of await this.store.events.countByStreamBetween(after, Math.min(upTo, after + COUNT_SLICE)))
          totals.set(streamId, (totals.get(streamId) ?? 0) + n)
      }
      for (const streamId of totals.keys()) lastAt.set(streamId, await this.store.events.lastAtOf(streamId, upTo))
    } catch (error) {
      this.log(`counting the stored events failed: ${error instanceof Error ? error.message : String(error)}`)
      return
    }
    if (generation !== this.countGeneration) return
    for (const [streamId, n] of totals) {
      const counter = this.streamCounters.get(streamId) ?? { count: 0, lastAt: null }
      counter.count += n
      counter.lastAt ??= lastAt.get(streamId) ?? null
      this.streamCounters.set(streamId, counter)
    }
    traceStart('subscriptions: stored rows counted')
    for (const subscription of this.store.subscriptions.list()) this.changed(this.view(subscription), null)
  }

  list(connectionId?: number): Subscription[] {
    return this.store.subscriptions.list(connectionId).map((s) => this.view(s))
  }

  /** The saved subscriptions as stored (stream ids, specs), for listing and notifying. */
  stored(connectionId?: number): StoredSubscription[] {
    return this.store.subscriptions.list(connectionId)
  }

  storedById(id: number): StoredSubscription | undefined {
    return this.store.subscriptions.get(id)
  }

  /** logs and newHeads subscriptions are always watches (default: from the next block, listening). */
  create(input: NewSubscription): Subscription {
    this.connections.get(input.connectionId)
    const isWatch = input.spec.type === 'logs' || input.spec.type === 'newHeads'
    const stored = this.store.subscriptions.add({ ...input, watch: isWatch ? (input.watch ?? watchOptionsSchema.parse({})) : undefined })
    this.startRunner(stored)
    return this.view(stored)
  }

  async setPaused(id: number, paused: boolean): Promise<Subscription> {
    const stored = this.store.subscriptions.get(id)
    if (!stored) throw new NotFoundError(`There is no subscription ${id}`)
    this.store.subscriptions.setPaused(id, paused)
    if (paused) {
      const runner = this.runners.get(id)
      this.runners.delete(id)
      await runner?.stop()
    } else this.startRunner({ ...stored, paused: false })
    const view = this.view({ ...stored, paused })
    this.changed(view, null)
    return view
  }

  update(id: number, patch: { label?: string | null | undefined; notify?: boolean | undefined }): Subscription {
    const stored = this.store.subscriptions.get(id)
    if (!stored) throw new NotFoundError(`There is no subscription ${id}`)
    this.store.subscriptions.update(id, patch)
    const view = this.view(this.store.subscriptions.get(id)!)
    this.changed(view, null)
    return view
  }

  /** Ends the subscription (eth_unsubscribe when it was the last user); its captured events stay. */
  async remove(id: number): Promise<boolean> {
    const runner = this.runners.get(id)
    this.runners.delete(id)
    await runner?.stop()
    const removed = this.store.subscriptions.remove(id)
    if (removed) this.changed(null, id)
    return removed
  }

  /** The connection is live: its active subscriptions start. */
  startFor(connectionId: number): void {
    for (const subscription of this.store.subscriptions.list(connectionId)) if (!subscription.paused) this.startRunner(subscription)
  }

  /** The connection is going away: its subscriptions stop, one after the other. */
  async stopFor(connectionId: number): Promise<void> {
    for (const subscription of this.store.subscriptions.list(connectionId)) {
      const runner = this.runners.get(subscription.id)
      this.runners.delete(subscription.id)
      await runner?.stop()
    }
  }

  /** Stops every running subscription and remembers which, for `resumeSuspended`. */
  async suspend(): Promise<void> {
    this.suspended = [...this.runners.keys()]
    await this.stopAll()
  }

  resumeSuspended(): void {
    const resume = this.suspended
    this.suspended = []
    for (const id of resume) {
      const subscription = this.store.subscriptions.get(id)
      if (subscription && !subscription.paused) this.startRunner(subscription)
    }
  }

  /**
   * Another instance sharing the store changed the subscriptions (the store read them again):
   * those removed or paused stop here, those added or resumed start where this instance
   * captures their connection, and every one is announced.
   */
  async sync(): Promise<void> {
    const stored = this.store.subscriptions.list()
    const byId = new Map(stored.map((subscription) => [subscription.id, subscription]))
    for (const [id, runner] of [...this.runners]) {
      const subscription = byId.get(id)
      if (subscription && !subscription.paused) continue
      this.runners.delete(id)
      await runner.stop()
    }
    for (const subscription of stored) if (!subscription.paused) this.startRunner(subscription)
    for (const id of this.announced) if (!byId.has(id)) this.changed(null, id)
    this.announced = new Set(byId.keys())
    for (const subscription of stored) this.changed(this.view(subscription), null)
  }

  /** Events committed per stream, for each subscription's count and last event time. */
  countCommitted(perStream: Map<number, number>): void {
    for (const [streamId, count] of perStream) {
      const counter = this.streamCounters.get(streamId) ?? { count: 0, lastAt: null }
      counter.count += count
      counter.lastAt = Date.now()
      this.streamCounters.set(streamId, counter)
    }
  }

  /** Counts again from the store (after a connection's events were deleted). */
  async recount(): Promise<void> {
    // A count still running at start would add what is gone.
    const generation = ++this.countGeneration
    try {
      const counts = await this.store.events.countByStream()
      if (generation !== this.countGeneration) return
      this.streamCounters.clear()
      for (const [streamId, counter] of counts) this.streamCounters.set(streamId, counter)
    } catch (error) {
      this.log(`counting the stored events failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  async stopAll(): Promise<void> {
    this.countGeneration += 1
    const stopping = [...this.runners.values()]
    this.runners.clear()
    await Promise.all(stopping.map((runner) => runner.stop()))
  }

  private startRunner(subscription: StoredSubscription): void {
    const live = this.connections.capturingConnection(subscription.connectionId)
    if (!live || this.runners.has(subscription.id) || subscription.paused) return
    const log = (message: string): void => this.log(`[subscription ${subscription.id}] ${message}`)
    const { spec } = subscription
    const events = this.store.events
    let runner: SubscriptionRunner | WatchCapture
    if ((spec.type === 'logs' || spec.type === 'newHeads') && subscription.watch) {
      if (subscription.complete) return
      const { connectionId, streamId, id } = subscription
      runner = new WatchCapture({
        spec,
        watch: subscription.watch,
        provider: createTrackerWatchProvider(live.tracker, live.pool),
        resume: { startBlock: subscription.startBlock, cursor: subscription.cursor, complete: subscription.complete },
        store: {
          insertLog: (log, stored) => events.enqueueLog(connectionId, streamId, log, stored),
          insert: (event) => events.enqueue(connectionId, streamId, event),
          remove: (blockHash, logIndex) => events.enqueueRemoved(streamId, blockHash, logIndex),
          cursor: (number, hash) => events.enqueueCursor(id, number, hash),
          resolvedStart: (startBlock, head) => this.store.subscriptions.setStart(id, startBlock, head),
          // Marked once the rows before it are tried, so a restart does not skip rows that were still queued.
          complete: () => void events.settle().then(() => this.store.subscriptions.setComplete(id)),
        },
        log,
      })
    } else {
      runner = new SubscriptionRunner({
        pool: live.pool,
        spec,
        sink: (event) => events.enqueue(subscription.connectionId, subscription.streamId, event),
        log,
        ...(this.options.syncingPollMs ? { syncingPollMs: this.options.syncingPollMs } : {}),
      })
    }
    runner.on('status', () => {
      if (this.runners.get(subscription.id) === runner) this.changed(this.view(subscription), null)
    })
    this.runners.set(subscription.id, runner)
    runner.start()
  }

  private view(given: StoredSubscription): Subscription {
    // Cursor, start and completion change as the watch runs: read them fresh.
    const subscription = { ...given, ...(this.store.subscriptions.get(given.id) ?? {}), paused: given.paused }
    const runner = this.runners.get(subscription.id)
    const status = runner?.getStatus()
    const counter = this.streamCounters.get(subscription.streamId)
    // A shared store's other instance captures the connection: it runs there, not here.
    const capturedElsewhere =
      !runner &&
      !subscription.paused &&
      this.connections.liveConnection(subscription.connectionId) !== undefined &&
      this.connections.capturingConnection(subscription.connectionId) === undefined
    const paused = subscription.paused || (!runner && !capturedElsewhere)
    return {
      id: subscription.id,
      connectionId: subscription.connectionId,
      type: subscription.spec.type,
      params: subscription.spec.params,
      label: subscription.label,
      state: paused ? 'paused' : !status ? 'active' : status.state === 'paused' ? 'pending' : status.state,
      emulated: status?.emulated ?? false,
      emulation: status?.emulation ?? null,
      lastError: status?.lastError ?? null,
      eventCount: counter?.count ?? 0,
      lastEventAt: counter?.lastAt ?? null,
      createdAt: subscription.createdAt,
      watch: subscription.watch,
      cursor: subscription.cursor,
      history: runner instanceof WatchCapture ? runner.getStatus().history : null,
      complete: subscription.complete,
      notify: subscription.notify,
    }
  }
}
