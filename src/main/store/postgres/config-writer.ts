/**
 * The write-through of the configuration stores on PostgreSQL (config-stores.ts). The engine
 * calls those stores synchronously, as it calls SQLite's, so each store applies a change to
 * its rows in memory at once and hands the writer the statements that make the same change
 * in PostgreSQL. The writer runs them in the order made, one transaction at a time on one
 * connection of the pool, each announcing its tables on the change feed as it commits.
 *
 * A transaction that fails is retried with backoff (storage-health.ts retryDelay) and
 * everything made after it waits behind it: never reordered, never skipped. One exception:
 * a write the server refuses for its data (SQLSTATE classes 22 and 23, e.g. a subscription
 * of a connection another instance removed meanwhile) would be refused at every retry and
 * hold every later write back for good. It is dropped, reported, and the tables it touched
 * are read again, so memory shows what the store holds.
 *
 * Re-reading a table (reload) is queued like a write: it reads when every write made before
 * it has committed, on the same connection, so its rows include those; writes made after it
 * are applied again over the rows read (their in-memory part, MirrorChange), so none of this
 * instance's changes is lost from memory while it waits for its commit.
 */
import type { Pool, PoolClient } from 'pg'
import { retryDelay } from '../storage-health'
import { notifyChanges, type ConfigTable } from './change-feed'

/** The tables held in memory: the change feed's configuration tables, with streams (announced as subscriptions). */
export type MirrorTable = 'connections' | 'subscriptions' | 'streams' | 'abis' | 'watchlist' | 'settings' | 'token_metadata'

/** One table's part of a write's effect in memory: applied when the write is made, and again over that table's rows if they are read before it commits. */
export interface MirrorChange {
  table: MirrorTable
  apply(): void
}

export interface ConfigWrite {
  /** What it does, for messages: "add connection 12". */
  what: string
  /** The tables whose rows it changes, announced on the change feed when it commits. */
  tables: readonly ConfigTable[]
  changes: readonly MirrorChange[]
  /** Its statements, inside the writer's transaction; what it returns runs once the transaction has committed. */
  run(client: PoolClient): Promise<(() => void) | void>
}

/** How to read the rows of one configuration table (with those read along with it) into memory. */
export interface MirrorReload {
  table: ConfigTable
  /** The in-memory tables it replaces: writes not yet committed are applied again to these. */
  replaces: readonly MirrorTable[]
  /** Reads the rows (inside a read-only transaction); what it returns puts them in place of the ones held. */
  read(client: PoolClient): Promise<() => void>
  /** Runs after the writes not yet committed were applied again (e.g. dropping rows of connections gone). */
  after?(): void
}

export interface ConfigWriteFailure {
  /** When the failed write (or reload) is tried again; null: it is not (dropped, or the store is closing). */
  retryInMs: number | null
  /** Writes made and not yet committed, the failed one included. */
  pendingWrites: number
}

export interface ConfigWriterOptions {
  /** Named in each change announced (ConfigChanged.origin). */
  origin?: string
  /** A write or reload failed: retried in `retryInMs`, or given up (null). */
  onError?: (error: Error, failure: ConfigWriteFailure) => void
  /** How long a write waits for another session's lock before it fails and is retried. */
  lockTimeoutMs?: number
  /** The reload of a table, queued after a write touching it was dropped. */
  reloadOf: (table: ConfigTable) => MirrorReload
}

/** How long close() waits for the queued writes to commit. */
export const CLOSE_BOUND_MS = 5_000
const DEFAULT_LOCK_TIMEOUT_MS = 5_000

interface Reloading {
  kind: 'reload'
  reload: MirrorReload
  /** It has begun reading: a reload asked for now must read again after it. */
  started: boolean
  resolve: () => void
  reject: (error: Error) => void
  promise: Promise<void>
}

type Item = { kind: 'write'; write: ConfigWrite } | Reloading

export class ConfigWriter {
  private readonly queue: Item[] = []
  private running = false
  private retryTimer: NodeJS.Timeout | null = null
  private failures = 0
  /** Items queued since the start, and items done (committed, read or dropped): settled() waits for the count at its call. */
  private enqueued = 0
  private done = 0
  private settledWaiters: { target: number; resolve: () => void; reject: (error: Error) => void }[] = []
  private idleWaiters: (() => void)[] = []
  private closing: Promise<void> | null = null
  /** Why writes that were queued when the store closed are not stored. */
  private closeError: Error | null = null

  constructor(
    private readonly pool: Pool,
    private readonly options: ConfigWriterOptions,
  ) {}

  /** Applies `write` in memory at once and queues its statements; throws once the store is closing. */
  write(write: ConfigWrite): void {
    if (this.closing) throw new Error(`Cannot ${write.what}: the PostgreSQL store is closed`)
    for (const change of write.changes) change.apply()
    this.push({ kind: 'write', write })
  }

  /** Reads the table again once every write made before has committed; one already queued and not begun serves too. */
  reload(reload: MirrorReload): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`Cannot re-read ${reload.table}: the PostgreSQL store is closed`))
    const queued = this.queue.find((item): item is Reloading => item.kind === 'reload' && !item.started && item.reload.table === reload.table)
    if (queued) return queued.promise
    let resolve!: () => void
    let reject!: (error: Error) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    this.push({ kind: 'reload', reload, started: false, resolve, reject, promise })
    return promise
  }

  /** Resolves once everything queued so far is committed (or read, or dropped); rejects if the store closed first. */
  settled(): Promise<void> {
    const target = this.enqueued
    if (this.done >= target) return Promise.resolve()
    if (this.closeError) return Promise.reject(this.closeError)
    return new Promise((resolve, reject) => this.settledWaiters.push({ target, resolve, reject }))
  }

  /** Writes made and not yet committed. */
  get pendingWrites(): number {
    return this.queue.reduce((count, item) => count + (item.kind === 'write' ? 1 : 0), 0)
  }

  /** True while the first queued item failed and waits for its retry. */
  get failing(): boolean {
    return this.retryTimer !== null
  }

  /**
   * Stops taking writes and commits the queued ones: one attempt now even while failing,
   * no retries, waiting at most `boundMs`. Writes left are reported (onError), reloads left
   * rejected.
   */
  close(boundMs = CLOSE_BOUND_MS): Promise<void> {
    return (this.closing ??= this.shutdown(boundMs))
  }

  private async shutdown(boundMs: number): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.kick()
    if (this.running) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), new Promise((resolve) => (timer = setTimeout(resolve, boundMs)))])
      clearTimeout(timer)
    }
    // A transaction still running past the bound may yet commit; nothing after it is sent.
    const left = this.queue.splice(0)
    const unwritten = left.filter((item) => item.kind === 'write').map((item) => item.write.what)
    const closed = new Error(
      unwritten.length > 0
        ? `${unwritten.length} configuration change(s) were not stored in PostgreSQL before closing: ${unwritten.slice(0, 5).join('; ')}${unwritten.length > 5 ? '; …' : ''}`
        : 'the PostgreSQL store is closed',
    )
    this.closeError = closed
    for (const item of left) if (item.kind === 'reload') item.reject(closed)
    for (const waiter of this.settledWaiters.splice(0)) waiter.reject(closed)
    if (unwritten.length > 0) this.options.onError?.(closed, { retryInMs: null, pendingWrites: unwritten.length })
  }

  private push(item: Item): void {
    this.queue.push(item)
    this.enqueued += 1
    this.kick()
  }

  private kick(): void {
    if (this.running || this.retryTimer || this.queue.length === 0) return
    this.running = true
    void this.pump()
  }

  /** Runs the queue from its head until it is empty or an item fails. */
  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const item = this.queue[0]!
      let after: (() => void) | void
      try {
        after = await this.attempt(item)
      } catch (error) {
        if (this.queue[0] !== item) break
        const failure = error instanceof Error ? error : new Error(String(error))
        if (item.kind === 'write' && refusedForItsData(failure)) {
          this.drop(item.write, failure)
          continue
        }
        this.running = false
        this.failed(item, failure)
        return
      }
      // close() gave up waiting while this one ran: the queue is no longer this loop's.
      if (this.queue[0] !== item) break
      this.queue.shift()
      this.failures = 0
      after?.()
      this.finished()
    }
    this.running = false
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  /** One item in one transaction on a connection of the pool; returns what runs once it has committed. */
  private async attempt(item: Item): Promise<(() => void) | void> {
    const client = await this.pool.connect()
    let broken = false
    // The server may end the connection between two statements (an administrator, a restart): unheard, that 'error' would end the process.
    const onClientError = (): void => {
      broken = true
    }
    client.on('error', onClientError)
    try {
      if (item.kind === 'write') {
        const lockTimeout = Math.round(this.options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS)
        await client.query(`BEGIN; SET LOCAL lock_timeout = ${lockTimeout}`)
        const after = await item.write.run(client)
        await notifyChanges(
          client,
          item.write.tables.map((table) => ({
            change: 'config' as const,
            table,
            ...(this.options.origin !== undefined ? { origin: this.options.origin } : {}),
          })),
        )
        await client.query('COMMIT')
        return after
      }
      item.started = true
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const install = await item.reload.read(client)
      await client.query('COMMIT')
      return () => this.installReload(item, install)
    } catch (error) {
      // A connection that cannot even roll back is closed rather than handed out again.
      await client.query('ROLLBACK').catch(() => (broken = true))
      throw error
    } finally {
      client.removeListener('error', onClientError)
      client.release(broken)
    }
  }

  /** The rows read replace those held; this instance's writes queued after the reload go over them again. */
  private installReload(item: Reloading, install: () => void): void {
    install()
    const replaced = new Set(item.reload.replaces)
    for (const later of this.queue) if (later.kind === 'write') for (const change of later.write.changes) if (replaced.has(change.table)) change.apply()
    item.reload.after?.()
    item.resolve()
  }

  private drop(write: ConfigWrite, error: Error): void {
    this.queue.shift()
    this.finished()
    // Queued before the report, so settled() called from it waits for them too.
    for (const table of write.tables) this.reload(this.options.reloadOf(table)).catch(() => undefined)
    this.options.onError?.(
      new Error(`PostgreSQL refused to ${write.what} (${error.message}); the change is dropped and ${write.tables.join(', ')} read again`, { cause: error }),
      { retryInMs: null, pendingWrites: this.pendingWrites },
    )
  }

  private failed(item: Item, error: Error): void {
    const what = item.kind === 'write' ? item.write.what : `re-read ${item.reload.table}`
    const retryInMs = this.closing ? null : retryDelay(this.failures++)
    if (retryInMs !== null)
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null
        this.kick()
      }, retryInMs)
    else for (const resolve of this.idleWaiters.splice(0)) resolve()
    const next = retryInMs === null ? 'not retried: the store is closing' : `retrying in ${retryInMs} ms; later changes wait behind it`
    this.options.onError?.(new Error(`Cannot ${what} in PostgreSQL (${error.message}); ${next}`, { cause: error }), {
      retryInMs,
      pendingWrites: this.pendingWrites,
    })
  }

  private finished(): void {
    this.done += 1
    const waiting = this.settledWaiters
    this.settledWaiters = waiting.filter((waiter) => waiter.target > this.done)
    for (const waiter of waiting) if (waiter.target <= this.done) waiter.resolve()
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation): the same statement fails the same way at every retry. */
function refusedForItsData(error: Error): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))
}
