/**
 * What is wrong with the store, said once. Every write path (the events writer thread,
 * heads, the chain tracker's blocks) reports its failures and successes here; a fault
 * (another process holding the lock, a full disk, a read-only or damaged file) is logged
 * and published when it starts and when it ends, not once per failed batch. Retries are
 * the write paths' own, timed by `retryDelay` (exponential backoff).
 */
import { EventEmitter } from 'node:events'
import path from 'node:path'
import type { StorageStatus } from '../../shared/contract'
import { backoffDelay } from '../backoff'
import { BUSY_TIMEOUT_MS, type Db, type WriteGate } from './database'

export type StorageFault = NonNullable<StorageStatus['fault']>

/** The SQLite result codes (and errno names) of each fault; extended codes start with the primary one. */
export function classifyStorageError(error: unknown): StorageFault | null {
  const code = String((error as { code?: unknown } | null)?.code ?? '')
  const message = error instanceof Error ? error.message : String(error)
  if (/^SQLITE_(BUSY|LOCKED)/.test(code) || /database is locked/i.test(message)) return 'locked'
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || /disk is full/i.test(message)) return 'full'
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || /readonly database/i.test(message)) return 'read_only'
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB') || /malformed|not a database/i.test(message)) return 'corrupt'
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return 'io'
  return null
}

/** First retry after this long, doubling (with jitter) up to RETRY_MAX_MS. */
export const RETRY_INITIAL_MS = 250
export const RETRY_MAX_MS = 8_000

/** Delay before retry number `attempt` (0 = the first) of a failed write. */
export function retryDelay(attempt: number, random?: () => number): number {
  return backoffDelay(attempt, { initialMs: RETRY_INITIAL_MS, maxMs: RETRY_MAX_MS, ...(random ? { random } : {}) })
}

/** The events writer thread, or the main connection's writes (heads, the chain tracker's blocks). */
export type WritePath = 'events' | 'main'

export interface StorageHealthOptions {
  file: string
  log: (message: string) => void
  /** Writes captured and held in memory, not yet committed (every write path). */
  pendingWrites?: () => number
  now?: () => number
}

export class StorageHealth extends EventEmitter<{ status: [StorageStatus] }> {
  private readonly failing = new Map<WritePath, { fault: StorageFault; error: string }>()
  private status: StorageStatus
  private readonly now: () => number

  constructor(private readonly options: StorageHealthOptions) {
    super()
    this.now = options.now ?? Date.now
    this.status = {
      state: 'ok',
      fault: null,
      message: null,
      since: null,
      pendingWrites: 0,
      failedAttempts: 0,
      nextRetryAt: null,
      capturePaused: false,
      notice: null,
    }
  }

  /** The status, with the writes held in memory counted now. */
  get current(): StorageStatus {
    return { ...this.status, pendingWrites: this.options.pendingWrites?.() ?? this.status.pendingWrites }
  }

  get faulted(): boolean {
    return this.status.state !== 'ok'
  }

  /** True while `text` repeats the error of a fault already reported (for callers with their own logging). */
  isKnownFault(text: string): boolean {
    return [...this.failing.values()].some((f) => text.includes(f.error))
  }

  /** A write on `path` failed; what it wrote stays held in memory for the retry in `retryInMs`. */
  failed(path: WritePath, error: unknown, detail: { retryInMs?: number } = {}): void {
    const fault = classifyStorageError(error) ?? 'io'
    const text = error instanceof Error ? error.message : String(error)
    const before = this.status
    this.failing.set(path, { fault, error: text })
    const sameFault = before.state !== 'ok' && before.fault === fault
    const message = sameFault && before.message ? before.message : describeFault(fault, this.options.file, text)
    if (!sameFault) this.options.log(`storage: ${message}`)
    this.publish({
      ...before,
      state: before.capturePaused ? 'capture_paused' : 'retrying',
      fault,
      message,
      since: sameFault ? before.since : this.now(),
      pendingWrites: this.options.pendingWrites?.() ?? before.pendingWrites,
      failedAttempts: sameFault ? before.failedAttempts + 1 : 1,
      nextRetryAt: detail.retryInMs !== undefined ? this.now() + detail.retryInMs : before.nextRetryAt,
    })
  }

  /** A write on `path` committed. The fault ends once every path that failed has written again. */
  succeeded(path: WritePath): void {
    if (!this.failing.delete(path) || this.failing.size > 0) return
    const since = this.status.since ?? this.now()
    this.options.log(`storage: writing again after ${formatDuration(this.now() - since)}; nothing captured was lost`)
    this.publish({
      ...this.status,
      state: 'ok',
      fault: null,
      message: null,
      since: null,
      pendingWrites: 0,
      failedAttempts: 0,
      nextRetryAt: null,
      capturePaused: false,
    })
  }

  /** Tells the person, for the rest of the session, what was done to the store at start. */
  noted(notice: string): void {
    this.options.log(`storage: ${notice}`)
    this.publish({ ...this.status, notice })
  }

  /** The writes held in memory reached their cap: capture stops until they commit (engine.ts). */
  capturePaused(paused: boolean, held: number): void {
    if (this.status.capturePaused === paused) return
    if (paused) {
      this.options.log(
        `storage: ${held.toLocaleString('en-US')} writes are waiting in memory, the most Tidewatch holds; capture is paused until the store takes them. ` +
          'Log and head watches resume from their saved cursors with nothing missed; pending transactions in between are not captured.',
      )
    } else {
      this.options.log('storage: the waiting writes are stored; capture resumes')
    }
    this.publish({ ...this.status, capturePaused: paused, state: paused ? 'capture_paused' : this.failing.size > 0 ? 'retrying' : 'ok' })
  }

  private publish(status: StorageStatus): void {
    this.status = status
    this.emit('status', this.current)
  }
}

/** One sentence a person can act on: what is wrong, with which file, and what to do. */
export function describeFault(fault: StorageFault, file: string, error: string): string {
  const dir = path.dirname(file)
  switch (fault) {
    case 'locked':
      return `the store ${file} is locked by another process (${error}). Close the other program using it (another Tidewatch, an SQLite browser); captured events are kept in memory and written as soon as it is free.`
    case 'full':
      return `the disk holding ${file} is full (${error}). Free some space; captured events are kept in memory and written as soon as there is room.`
    case 'read_only':
      return `the store ${file} cannot be written (${error}). Make ${dir} and the file writable; captured events are kept in memory and written once it is.`
    case 'corrupt':
      return `the store ${file} is damaged (${error}). Restart Tidewatch: it moves a damaged file aside and starts a fresh store.`
    case 'io':
      return `writing to the store ${file} failed (${error}); retrying.`
  }
}

function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`
  return `${Math.round(ms / 60_000)} min`
}

/** Thrown without touching SQLite while a fault is known and the next attempt is not due. */
export class StorageUnavailableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StorageUnavailableError'
  }
}

export interface GuardedGateOptions {
  health: StorageHealth
  /** The engine's gate: waits for the events writer thread to be idle, then writes. */
  exclusive: WriteGate
  /** True while the events writer's batches fail and are being retried. */
  eventsFailing: () => boolean
  /** The main connection, whose busy timeout a probe shortens. */
  db: Db
  now?: () => number
}

/**
 * The write gate of main-thread writes (heads, the chain tracker's blocks), as a circuit
 * breaker: while the store refuses writes, an attempt runs only when its backoff is due,
 * with a short busy timeout, so a lock held by another process never stalls the main
 * thread (sockets, heartbeats, the UI) for SQLite's 5 s busy timeout on every head.
 */
export function guardedWriteGate(options: GuardedGateOptions): WriteGate {
  const now = options.now ?? Date.now
  let attempts = 0
  let nextAt = 0
  let lastError = ''
  return <T>(write: () => T): T => {
    const { health } = options
    if (attempts > 0 && now() < nextAt) throw new StorageUnavailableError(lastError)
    // The writer thread's retry may be waiting out another process's lock: do not wait behind it.
    if (health.current.fault === 'locked' && options.eventsFailing()) throw new StorageUnavailableError(health.current.message ?? 'the store is locked')
    const probing = health.faulted
    if (probing) options.db.pragma(`busy_timeout = ${PROBE_BUSY_TIMEOUT_MS}`)
    try {
      const result = options.exclusive(write)
      attempts = 0
      health.succeeded('main')
      return result
    } catch (error) {
      if (classifyStorageError(error) === null) throw error
      const retryInMs = retryDelay(attempts++)
      nextAt = now() + retryInMs
      lastError = error instanceof Error ? error.message : String(error)
      health.failed('main', error, { retryInMs })
      throw error
    } finally {
      if (probing) options.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    }
  }
}

/** A probe during a fault waits this long for a lock, not database.ts's BUSY_TIMEOUT_MS. */
const PROBE_BUSY_TIMEOUT_MS = 100
