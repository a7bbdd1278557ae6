/**
 * Capture's writes into the PostgreSQL store (CaptureWriter, ../capture-writer.ts), with
 * EventStore's semantics: rows queued in order and committed in batches, one batch in
 * flight at a time on one dedicated connection, in one transaction, the next queued behind
 * it; a failed batch keeps its rows in order and is retried with backoff; the chain
 * tracker's rows (enqueueCommitted) ride in the same batches and their promise resolves on
 * commit. The statements a batch becomes are in capture-batch.ts; events rows go in by COPY
 * (insertEvents below).
 *
 * One difference: SQLite's writer thread lets capture wait synchronously for a commit
 * (drain), so a flood waits in enqueue() past MAX_QUEUED_BATCHES. PostgreSQL answers on the
 * event loop, so nothing here can make enqueue() wait: rows queue up while the server is
 * slower than capture, and the bound on writes held in memory (maxHeldWrites, onBacklog)
 * applies whether commits fail or not.
 */
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type { PoolClient } from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { NormalizedEvent } from '../captured-event'
import {
  CAPTURE_WRITE,
  DEFAULT_EVENT_BATCH,
  MAX_HELD_WRITES,
  pushEvent,
  pushLog,
  type CaptureWriter,
  type CaptureWriterOptions,
  type EventsCommitted,
  type Waiter,
} from '../capture-writer'
import type { ChainLog } from '../chain-store'
import { BUSY_TIMEOUT_MS } from '../database'
import type { FlatOps, SqlValue } from '../sqlite-writer'
import { retryDelay } from '../storage-health'
import { captureSteps, committedEvents, COPY_EVENTS, EVENT_IDS, type PostgresStep } from './capture-batch'
import { notifyChanges, type StoreChange } from './change-feed'
import type { PostgresPool } from './database'

export interface PostgresCaptureWriterOptions extends CaptureWriterOptions {
  /** Named in the configuration change a batch moving subscription cursors announces (ConfigChanged.origin). */
  origin?: string
  /** How long a batch waits for another session's lock before it fails and is retried (lock_timeout); BUSY_TIMEOUT_MS, as SQLite's busy_timeout. */
  lockTimeoutMs?: number
}

/** A batch handed to the server: its ops, how many statements, who waits for its commit, and who waits for it to be tried (settle). */
interface Batch {
  ops: FlatOps
  count: number
  waiters: Waiter[]
  tried: (() => void)[]
}

type BatchResult = { ok: true; committed: EventsCommitted[] } | { ok: false; error: Error }

export class PostgresCaptureWriter implements CaptureWriter {
  private ops: FlatOps = []
  private opCount = 0
  private waiters: Waiter[] = []
  /** settle() calls waiting for the queued rows to be tried. */
  private tried: (() => void)[] = []
  private inFlight: { batch: Batch; done: Promise<void> } | null = null
  private timer: NodeJS.Timeout | null = null
  private retrying = false
  private failures = 0
  private backlogFull = false
  private closing: Promise<void> | null = null
  private idleRuns: (() => void)[] = []
  /** The dedicated connection batches commit on; replaced after it fails. */
  private client: PoolClient | null = null
  private clientBroken = false
  private readonly onClientError = (): void => {
    this.clientBroken = true
  }
  private readonly flushIntervalMs: number
  private readonly maxBatch: number

  constructor(
    private readonly pool: PostgresPool,
    private readonly options: PostgresCaptureWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50
    this.maxBatch = options.maxBatch ?? DEFAULT_EVENT_BATCH
  }

  enqueue(connectionId: number, streamId: number, e: NormalizedEvent, receivedAt = Date.now()): void {
    pushEvent(this.ops, connectionId, streamId, e, receivedAt)
    this.queued()
  }

  enqueueLog(connectionId: number, streamId: number, log: ChainLog, stored: boolean, receivedAt = Date.now()): void {
    // queued() counts the last statement.
    this.opCount += pushLog(this.ops, connectionId, streamId, log, stored, receivedAt) - 1
    this.queued()
  }

  enqueueRemoved(streamId: number, blockHash: string, logIndex: number | null): void {
    this.ops.push(CAPTURE_WRITE.removed, streamId, blockHash, logIndex ?? -1)
    this.queued()
  }

  enqueueOrphaned(connectionId: number, blockHashes: string[]): void {
    this.ops.push(CAPTURE_WRITE.orphaned, connectionId, JSON.stringify(blockHashes))
    this.queued()
  }

  enqueueCursor(subscriptionId: number, number: number, hash: string): void {
    this.ops.push(CAPTURE_WRITE.subscriptionCursor, number, hash, subscriptionId)
    this.queued()
  }

  enqueueCommitted(ops: FlatOps, count: number): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the store is closed'))
    for (const op of ops) this.ops.push(op)
    this.opCount += count - 1
    const committed = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
    this.queued()
    if (!this.retrying) this.dispatch('timer')
    return committed
  }

  whenIdle(run: () => void): void {
    if (!this.inFlight) run()
    else this.idleRuns.push(run)
  }

  get pendingCount(): number {
    return this.opCount + (this.inFlight?.batch.count ?? 0)
  }

  get failing(): boolean {
    return this.retrying
  }

  settle(): Promise<void> {
    if (this.retrying || (this.opCount === 0 && !this.inFlight)) return Promise.resolve()
    const tried = new Promise<void>((resolve) => (this.opCount > 0 ? this.tried : this.inFlight!.batch.tried).push(resolve))
    this.dispatch('flush')
    return tried
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown())
  }

  /**
   * The capturer lost its leadership: another may be elected now, so nothing more is
   * written. What is queued is dropped (the next leader captures it again from the cursor
   * stored with the rows before it), the batch in flight is cut off with its connection (the
   * server rolls it back), and whoever waits for rows is told.
   */
  abandon(): void {
    if (this.abandoned) return
    this.abandoned = true
    this.closing ??= Promise.resolve()
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const waiting = [...(this.inFlight?.batch.waiters ?? []), ...this.waiters]
    const tried = [...(this.inFlight?.batch.tried ?? []), ...this.tried]
    this.ops = []
    this.opCount = 0
    this.waiters = []
    this.tried = []
    this.idleRuns = []
    this.clientBroken = true
    this.releaseClient(true)
    const error = new Error('capture stopped: another capturer may lead this connection now')
    for (const waiter of waiting) waiter.reject(error)
    for (const resolve of tried) resolve()
  }

  private abandoned = false

  private async shutdown(): Promise<void> {
    // One last attempt even while failing: the cause may be gone. Each commit sends what queued behind it, until one fails.
    this.dispatch('flush')
    while (this.inFlight) await this.inFlight.done
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    // Whoever waits for rows the store refused hears it now rather than never.
    const waiting = this.waiters
    this.waiters = []
    const error = new Error('the store closed before these rows could be committed')
    for (const waiter of waiting) waiter.reject(error)
    for (const resolve of this.tried.splice(0)) resolve()
    this.releaseClient(false)
  }

  private queued(): void {
    if (this.abandoned) {
      this.ops = []
      this.opCount = 0
      return
    }
    this.opCount += 1
    this.checkBacklog()
    if (this.opCount >= this.maxBatch) this.dispatch('batch')
    else if (!this.timer) this.timer = setTimeout(() => this.dispatch('timer'), this.flushIntervalMs)
  }

  /** Past `maxHeldWrites` held (failing, or a server slower than capture) the owner is told to stop producing (once). */
  private checkBacklog(): void {
    if (!this.backlogFull && this.pendingCount >= (this.options.maxHeldWrites ?? MAX_HELD_WRITES)) {
      this.backlogFull = true
      this.options.onBacklog?.(true, this.pendingCount)
    }
  }

  /** Sends the queue unless a batch is in flight (its answer sends the next); a full batch waits while a failed one awaits its retry. */
  private dispatch(reason: 'batch' | 'timer' | 'flush'): void {
    if (this.abandoned) return
    if (reason !== 'batch' && this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.inFlight || this.opCount === 0) return
    if (reason === 'batch' && this.retrying) return
    const batch: Batch = { ops: this.ops, count: this.opCount, waiters: this.waiters, tried: this.tried }
    this.ops = []
    this.opCount = 0
    this.waiters = []
    this.tried = []
    this.inFlight = { batch, done: this.commit(batch) }
  }

  private async commit(batch: Batch): Promise<void> {
    let result: BatchResult
    try {
      result = { ok: true, committed: await this.run(batch.ops) }
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error : new Error(String(error)) }
    }
    this.settled(batch, result)
  }

  /** One batch in one transaction on the dedicated connection. */
  private async run(ops: FlatOps): Promise<EventsCommitted[]> {
    const client = await this.connection()
    const steps = captureSteps(ops)
    const inserted: [number, number, number][] = []
    await client.query('BEGIN')
    try {
      for (const step of steps) {
        if (step.insertsEvents) await insertEvents(client, step, inserted)
        else await client.query({ name: step.name, text: step.text, values: step.values })
      }
      const committed = committedEvents(inserted)
      // Viewers hear of the new rows as they commit, never of rows rolled back; and of moved
      // subscription cursors, which they show (a capturer taking over reads them again anyway).
      const movedCursors = steps.some((step) => step.name === 'tidewatch_capture_subscriptionCursors')
      const origin = this.options.origin
      const changes: StoreChange[] = [
        ...committed.map((events) => ({ change: 'events' as const, ...events })),
        ...(movedCursors ? [{ change: 'config' as const, table: 'subscriptions' as const, ...(origin !== undefined ? { origin } : {}) }] : []),
      ]
      if (changes.length > 0) await notifyChanges(client, changes)
      await client.query('COMMIT')
      return committed
    } catch (error) {
      // A connection that cannot even roll back is replaced before the retry.
      await client.query('ROLLBACK').catch(() => (this.clientBroken = true))
      throw error
    }
  }

  private async connection(): Promise<PoolClient> {
    if (this.client && this.clientBroken) this.releaseClient(true)
    if (this.client) return this.client
    const client = await this.pool.connect()
    // A connection that fails between batches (server restart, admin kill) is an 'error' event: unheard, it would end the process.
    client.on('error', this.onClientError)
    try {
      await client.query(`SET lock_timeout = ${Math.round(this.options.lockTimeoutMs ?? BUSY_TIMEOUT_MS)}`)
    } catch (error) {
      client.removeListener('error', this.onClientError)
      client.release(true)
      throw error
    }
    this.client = client
    this.clientBroken = false
    return client
  }

  private releaseClient(destroy: boolean): void {
    if (!this.client) return
    this.client.removeListener('error', this.onClientError)
    this.client.release(destroy || this.clientBroken)
    this.client = null
    this.clientBroken = false
  }

  private settled(batch: Batch, result: BatchResult): void {
    this.inFlight = null
    if (this.abandoned) return
    // Nothing in flight now: writes that waited for that go first (whenIdle).
    for (const run of this.idleRuns.splice(0)) run()
    if (!result.ok) {
      // Keep everything, in order: a server that refuses writes must not lose captured events.
      this.ops = batch.ops.concat(this.ops)
      this.opCount += batch.count
      this.waiters = batch.waiters.concat(this.waiters)
      this.retrying = true
      if (this.timer) clearTimeout(this.timer)
      const retryInMs = retryDelay(this.failures++)
      if (!this.closing) this.timer = setTimeout(() => this.dispatch('timer'), retryInMs)
      this.options.onError?.(result.error, { pendingWrites: this.pendingCount, retryInMs })
      this.checkBacklog()
      // Tried: settle() returns, with the rows held for the retry (the queue's too: it waits for the retry as well).
      for (const resolve of [...batch.tried, ...this.tried.splice(0)]) resolve()
      return
    }
    this.retrying = false
    this.failures = 0
    // Rows that queued up while this batch committed go next, at once.
    if (this.opCount > 0) this.dispatch('timer')
    if (this.backlogFull && this.pendingCount < this.maxBatch) {
      this.backlogFull = false
      this.options.onBacklog?.(false, this.pendingCount)
    }
    this.options.onCommitted?.(result.committed)
    for (const waiter of batch.waiters) waiter.resolve()
    for (const resolve of batch.tried) resolve()
  }
}

/** COPY's text format: \\N for NULL; backslash, tab, newline and carriage return escaped. */
function copyValue(value: SqlValue): string {
  if (value === null) return '\\N'
  const text = String(value)
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : text
}

/** Rows formatted and written to COPY at a time: the server stores one chunk while the next is formatted. */
const COPY_CHUNK_ROWS = 1_000

/**
 * `count` new ids from the events sequence, in order. One range when no other session took ids meanwhile (one writer per
 * store, as yet); the whole list otherwise.
 */
async function takeEventIds(client: PoolClient, count: number): Promise<(row: number) => number> {
  const range = await client.query<[number, number, number[] | null]>({
    name: 'tidewatch_capture_event_ids',
    text: EVENT_IDS,
    values: [count],
    rowMode: 'array',
  })
  const [first, last, all] = range.rows[0]!
  if (last - first + 1 === count) return (row) => first + row
  const ids = all!.map(Number)
  return (row) => ids[row]!
}

/**
 * A run of events rows, pushing (connection_id, stream_id, id) of each row inserted. COPY first: PostgreSQL's INSERT takes
 * rows one at a time, COPY in bulk (on the ingest bench's rows an unnest INSERT reached under half of COPY's rate). Its ids
 * are taken from the sequence beforehand, so each row's is known without RETURNING. COPY cannot skip a row already stored
 * (a watch resuming after a crash, a block delivered again): then the run is rolled back to its savepoint and inserted
 * with ON CONFLICT DO NOTHING instead.
 */
async function insertEvents(client: PoolClient, step: PostgresStep, inserted: [number, number, number][]): Promise<void> {
  const columns = step.values as SqlValue[][]
  const count = columns[0]!.length
  const id = await takeEventIds(client, count)
  await client.query('SAVEPOINT tidewatch_copy_events')
  try {
    const copy = client.query(copyFrom(COPY_EVENTS))
    for (let from = 0; from < count; from += COPY_CHUNK_ROWS) {
      let chunk = ''
      for (let row = from; row < Math.min(count, from + COPY_CHUNK_ROWS); row++) {
        chunk += String(id(row))
        for (const column of columns) chunk += `\t${copyValue(column[row]!)}`
        chunk += '\n'
      }
      // once() rejects if the server refuses the COPY meanwhile (the stream's 'error').
      if (!copy.write(chunk)) await once(copy, 'drain')
    }
    copy.end()
    await finished(copy)
    await client.query('RELEASE SAVEPOINT tidewatch_copy_events')
  } catch (error) {
    // 23505: unique_violation.
    if ((error as { code?: unknown }).code !== '23505') throw error
    await client.query('ROLLBACK TO SAVEPOINT tidewatch_copy_events')
    const result = await client.query<[number, number, number]>({ name: step.name, text: step.text, values: step.values, rowMode: 'array' })
    for (const row of result.rows) inserted.push(row)
    return
  }
  const [connections, streams] = columns
  for (let row = 0; row < count; row++) inserted.push([connections![row] as number, streams![row] as number, id(row)])
}
