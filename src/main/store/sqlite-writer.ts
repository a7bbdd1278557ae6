/**
 * Runs batches of prepared statements against the store, each batch in one transaction,
 * on a worker thread with its own SQLite connection, so that committing captured events
 * (the larger half of capture's CPU time, BENCHMARKS.md) runs beside the socket parsing
 * instead of after it; the chain tracker's blocks and logs go the same way, in order. The
 * main thread keeps its own connection for reads and a few other writes; WAL lets reads
 * run beside the writer, and the main connection's writes wait for the writer to be idle
 * (EventStore.whenIdle, EventStore.exclusive) rather than in busy_timeout.
 *
 * Batches run in the order submitted. `drain()` waits synchronously for every batch in
 * flight (Atomics.wait + receiveMessageOnPort), so callers that read right after writing
 * keep the semantics they had when writes were synchronous.
 *
 * An in-memory database cannot be shared with another thread: it gets the inline writer,
 * which runs the same batches on the caller's connection.
 */
import { createRequire } from 'node:module'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { CONNECTION_PRAGMAS, type Db } from './database'

/** A bound parameter, as better-sqlite3 takes it. */
export type SqlValue = string | number | bigint | null

/**
 * A batch, flat to keep the copy to the worker cheap: statement index, then exactly as
 * many parameters as that statement has, then the next statement index, and so on.
 */
export type FlatOps = SqlValue[]

/** Per statement run: [changes, lastInsertRowid] pairs in op order. */
export type BatchResult = { ok: true; results: Float64Array } | { ok: false; error: Error }

export interface SqliteWriter {
  readonly kind: 'worker' | 'inline'
  /** Queues a batch; `done` runs on the main thread once it committed or failed. */
  submit(ops: FlatOps, done: (result: BatchResult) => void): void
  /** Blocks until every submitted batch has committed or failed (their `done` ran). */
  drain(): void
  readonly inFlight: number
  /** Milliseconds the writer thread has spent running batches (0 for the inline writer). */
  busyMs(): number
  close(): void
}

export interface SqliteWriterOptions {
  db: Db
  statements: readonly string[]
  nativeBinding?: string | undefined
}

export function createSqliteWriter(options: SqliteWriterOptions): SqliteWriter {
  if (options.db.memory) return new InlineWriter(options.db, options.statements)
  return new WorkerWriter(options)
}

/** Counts `?` placeholders; our statements use positional parameters only. */
export function parameterCount(sql: string): number {
  return sql.replace(/'[^']*'/g, '').split('?').length - 1
}

type Runnable = { run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint } }

/**
 * Runs one batch in one transaction. Both writers run this very function: the worker gets
 * its source text, so it may use nothing but its arguments.
 */
function runBatch(db: { transaction(fn: () => void): () => void }, statements: Runnable[], counts: number[], ops: FlatOps): Float64Array {
  const results = new Float64Array(ops.length)
  let n = 0
  db.transaction(() => {
    let i = 0
    while (i < ops.length) {
      const index = ops[i] as number
      const count = counts[index]!
      const info = statements[index]!.run(...ops.slice(i + 1, i + 1 + count))
      results[n++] = info.changes
      results[n++] = Number(info.lastInsertRowid)
      i += 1 + count
    }
  })()
  return results.slice(0, n)
}

class InlineWriter implements SqliteWriter {
  readonly kind = 'inline' as const
  readonly inFlight = 0
  private readonly prepared
  private readonly counts: number[]

  constructor(
    private readonly db: Db,
    statements: readonly string[],
  ) {
    this.prepared = statements.map((sql) => db.prepare(sql))
    this.counts = statements.map(parameterCount)
  }

  submit(ops: FlatOps, done: (result: BatchResult) => void): void {
    let result: BatchResult
    try {
      result = { ok: true, results: runBatch(this.db, this.prepared, this.counts, ops) }
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error : new Error(String(error)) }
    }
    done(result)
  }

  drain(): void {}

  busyMs(): number {
    return 0
  }

  close(): void {}
}

interface WorkerReply {
  seq: number
  ok: boolean
  results?: Float64Array
  message?: string
  code?: string
  /** The thread cannot write at all (it could not open the store): start a new one. */
  fatal?: boolean
}

/** How long drain() waits for one batch before it gives up and reports the writer stuck. */
const DRAIN_TIMEOUT_MS = 60_000

/**
 * The thread side. A thread that failed (could not open the store, or stopped) is
 * replaced at the next submit, so a transient failure (a store locked for longer than
 * busy_timeout at startup) costs retries, not the session's capture.
 */
class WorkerWriter implements SqliteWriter {
  readonly kind = 'worker' as const
  private worker!: Worker
  private replies!: MessagePort
  private readonly signal = new Int32Array(new SharedArrayBuffer(4))
  private readonly waiting = new Map<number, (result: BatchResult) => void>()
  private seq = 0
  private broken = false
  private busyBefore = 0

  constructor(private readonly options: SqliteWriterOptions) {
    this.spawn()
  }

  private spawn(): void {
    const { port1, port2 } = new MessageChannel()
    const require = createRequire(import.meta.url)
    const worker = new Worker(`(${workerMain.toString()})(require, ${runBatch.toString()})`, {
      eval: true,
      workerData: {
        filename: this.options.db.name,
        statements: this.options.statements,
        counts: this.options.statements.map(parameterCount),
        nativeBinding: this.options.nativeBinding ?? null,
        pragmas: CONNECTION_PRAGMAS,
        // Resolved here: code run with eval resolves modules from the working directory.
        betterSqlite3: require.resolve('better-sqlite3'),
        signal: this.signal,
        replies: port2,
      },
      transferList: [port2],
    })
    worker.unref()
    port1.on('message', (reply: WorkerReply) => this.settle(reply))
    port1.unref()
    // Only the current thread's end matters; a replaced one is gone already.
    worker.on('error', (error) => {
      if (this.worker === worker) this.fail(error)
    })
    worker.on('exit', (code) => {
      if (this.worker === worker && (this.waiting.size > 0 || code !== 0)) this.fail(new Error(`the SQLite writer thread stopped (exit code ${code})`))
    })
    this.worker = worker
    this.replies = port1
    this.broken = false
  }

  get inFlight(): number {
    return this.waiting.size
  }

  submit(ops: FlatOps, done: (result: BatchResult) => void): void {
    if (this.broken) {
      this.busyBefore += this.worker.performance.eventLoopUtilization().active
      void this.worker.terminate()
      this.replies.close()
      this.spawn()
    }
    const seq = ++this.seq
    this.waiting.set(seq, done)
    this.worker.postMessage({ seq, ops })
  }

  drain(): void {
    while (this.waiting.size > 0) {
      const seen = Atomics.load(this.signal, 0)
      const received = receiveMessageOnPort(this.replies)
      if (received) {
        this.settle(received.message as WorkerReply)
        continue
      }
      if (Atomics.wait(this.signal, 0, seen, DRAIN_TIMEOUT_MS) === 'timed-out') {
        this.fail(new Error(`the SQLite writer thread did not answer within ${DRAIN_TIMEOUT_MS / 1000} s`))
      }
    }
  }

  busyMs(): number {
    return this.busyBefore + this.worker.performance.eventLoopUtilization().active
  }

  close(): void {
    this.drain()
    void this.worker.terminate()
    this.replies.close()
  }

  private settle(reply: WorkerReply): void {
    if (reply.fatal) this.broken = true
    const done = this.waiting.get(reply.seq)
    if (!done) return
    this.waiting.delete(reply.seq)
    if (reply.ok && reply.results) done({ ok: true, results: reply.results })
    else done({ ok: false, error: Object.assign(new Error(reply.message ?? 'the batch failed'), { code: reply.code }) })
  }

  /** The thread is gone: every waiting batch fails (its rows stay queued by their owner). */
  private fail(error: Error): void {
    this.broken = true
    const waiting = [...this.waiting.values()]
    this.waiting.clear()
    for (const done of waiting) done({ ok: false, error })
  }
}

/**
 * The worker's whole program. It runs from its source text (`eval`), so that the same
 * code runs under the TypeScript test runner and in the bundled app without a separate
 * build entry: it must use nothing but its `require` argument and workerData.
 */
function workerMain(require: NodeRequire, run: typeof runBatch): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads')
  const data = workerData as {
    filename: string
    statements: string[]
    counts: number[]
    nativeBinding: string | null
    pragmas: string[]
    betterSqlite3: string
    signal: Int32Array
    replies: MessagePort
  }
  const answer = (reply: WorkerReply): void => {
    data.replies.postMessage(reply)
    // Wakes a drain() blocked in Atomics.wait; it then takes the reply off the port.
    Atomics.add(data.signal, 0, 1)
    Atomics.notify(data.signal, 0)
  }
  // Opening can fail (a store locked past busy_timeout, a damaged file). The thread then
  // answers every batch with why, rather than dying unseen while drain() waits for it.
  let setup: { db: import('better-sqlite3').Database; prepared: import('better-sqlite3').Statement[] } | { error: string; code: string }
  try {
    const Database = require(data.betterSqlite3) as typeof import('better-sqlite3')
    const db = new Database(data.filename, data.nativeBinding ? { nativeBinding: data.nativeBinding } : {})
    for (const pragma of data.pragmas) db.pragma(pragma)
    setup = { db, prepared: data.statements.map((sql) => db.prepare(sql)) }
  } catch (error) {
    setup = { error: error instanceof Error ? error.message : String(error), code: (error as { code?: string }).code ?? '' }
  }
  parentPort!.on('message', (message: { seq: number; ops: FlatOps }) => {
    if ('error' in setup) {
      answer({ seq: message.seq, ok: false, fatal: true, message: `the SQLite writer thread cannot open the store: ${setup.error}`, code: setup.code })
      return
    }
    try {
      answer({ seq: message.seq, ok: true, results: run(setup.db, setup.prepared, data.counts, message.ops) })
    } catch (error) {
      answer({ seq: message.seq, ok: false, message: error instanceof Error ? error.message : String(error), code: (error as { code?: string }).code ?? '' })
    }
  })
}
