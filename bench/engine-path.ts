/**
 * Tidewatch's engine path as the benchmarks measure it (bench:ingest, bench:peers): the
 * whole Engine with a `logs` subscription against the flood server's chain, counted to the
 * commit of the last log, every stored row then checked against what was sent; its raw
 * baseline (the same rows straight into SQLite); and the meters around a capture phase
 * (RSS, GC, process CPU, time in named methods, optional CPU profile).
 *
 * The Engine runs as the app and `tidewatch serve` run it: a `logs` subscription is a
 * watch. newHeads pokes the ChainTracker, which fetches each block (eth_getBlockByNumber)
 * and its logs (eth_getLogs by block hash), stores them in chain_blocks/chain_logs, and the
 * watch delivers them from there into `events`. The server's chain stays BENCH_CHAIN_LEAD
 * (default 16) blocks ahead of the newest block whose logs the client fetched, so the
 * client never waits for it. Counted from the engine's 'eventsAppended'; the rate runs from
 * the first new block the server announces to the commit of the last log.
 */
import fs from 'node:fs'
import { Session } from 'node:inspector/promises'
import os from 'node:os'
import path from 'node:path'
import { PerformanceObserver, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { INSERT_CHAIN_LOG_SQL, SqliteChainStore } from '../src/main/store/sqlite-chain-store'
import { DATABASE_FILE, Engine } from '../src/main/engine/engine'
import { openDatabase } from '../src/main/store/database'
import { DEFAULT_EVENT_BATCH, EventStore, INSERT_EVENT_SQL } from '../src/main/store/event-store'
import { decodeRawLog, encodeRawLog } from '../src/main/store/raw-log'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { subscriptionSpecSchema } from '../src/shared/subscription-params'
import type { FloodServer } from './flood-upstream'
import { FIRST_BLOCK, FIRST_TIMESTAMP, type MainnetLogs } from './mainnet-logs.mjs'

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const int = (n: number): string => Math.round(n).toLocaleString('en-US')
export const logSpec = () => subscriptionSpecSchema.parse({ type: 'logs', params: {} })

/* ------------------------------------------------------------------ meters */

export function rssMeter(): { stop(): { startMb: number; peakMb: number } } {
  const start = process.memoryUsage.rss()
  let peak = start
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100)
  return {
    stop() {
      clearInterval(timer)
      peak = Math.max(peak, process.memoryUsage.rss())
      return { startMb: start / 2 ** 20, peakMb: peak / 2 ** 20 }
    },
  }
}

export function gcMeter(): { stop(): Promise<number> } {
  let ms = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) ms += entry.duration
  })
  observer.observe({ entryTypes: ['gc'] })
  return {
    async stop() {
      // GC entries are delivered asynchronously.
      await new Promise((resolve) => setTimeout(resolve, 50))
      observer.disconnect()
      return ms
    },
  }
}

/** Wall time spent in methods of the real classes, measured around the real methods. */
export function methodMeter(targets: [label: string, proto: object, method: string][]): { stop(): Map<string, number> } {
  const spent = new Map<string, number>()
  const restore: (() => void)[] = []
  for (const [label, proto, method] of targets) {
    const target = proto as Record<string, (...args: unknown[]) => unknown>
    const original = target[method]!
    spent.set(label, 0)
    target[method] = function (this: unknown, ...args: unknown[]): unknown {
      const started = performance.now()
      try {
        return original.apply(this, args)
      } finally {
        spent.set(label, spent.get(label)! + performance.now() - started)
      }
    }
    restore.push(() => (target[method] = original))
  }
  return {
    stop() {
      restore.forEach((undo) => undo())
      return spent
    },
  }
}

/** A CPU profile of this process, sampled every `intervalUs`; `stop` writes it to bench/.profiles/, says where, and returns that path. */
export async function cpuProfiler(intervalUs = 250): Promise<{ stop(name: string): Promise<string> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs })
  await session.post('Profiler.start')
  return {
    async stop(name) {
      const { profile } = await session.post('Profiler.stop')
      const file = path.join(benchDir, '.profiles', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, JSON.stringify(profile))
      session.disconnect()
      const shown = path.relative(process.cwd(), file)
      console.log(`CPU profile (${name}): ${shown}; summary: node bench/profile-summary.mjs ${shown}`)
      return shown
    },
  }
}

/** Meters one capture phase: RSS, GC, process CPU, time in the store methods, optional CPU profile (bench/.profiles/). */
export async function phaseMeters(name: string, methods: [string, object, string][], profile: boolean) {
  const profiler = profile ? await cpuProfiler() : null
  const rss = rssMeter()
  const gc = gcMeter()
  const spent = methodMeter(methods)
  const cpu = process.cpuUsage()
  return {
    async stop() {
      const used = process.cpuUsage(cpu)
      const times = spent.stop()
      const memory = rss.stop()
      await profiler?.stop(name)
      return { cpuMs: (used.user + used.system) / 1000, times, ...memory, gcMs: await gc.stop() }
    },
  }
}

/** A phase's measurement, as phaseMeters' stop() returns it. */
export type PhaseMeasurement = Awaited<ReturnType<Awaited<ReturnType<typeof phaseMeters>>['stop']>>

export function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A full GC when the worker runs with --expose-gc (the bench config passes it). */
export function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/* ------------------------------------------------------------------ checks */

/** The log object the flood server sends for a row (geth's field order, blockTimestamp included). */
export function wireObject(r: ReturnType<MainnetLogs['row']>): Record<string, unknown> {
  return {
    address: r.address,
    topics: r.topics.split(','),
    data: r.data,
    blockNumber: `0x${r.blockNumber.toString(16)}`,
    transactionHash: r.transactionHash,
    transactionIndex: `0x${r.transactionIndex.toString(16)}`,
    blockHash: r.blockHash,
    blockTimestamp: `0x${(FIRST_TIMESTAMP + 12 * (r.blockNumber - FIRST_BLOCK)).toString(16)}`,
    logIndex: `0x${r.logIndex.toString(16)}`,
    removed: false,
  }
}

export interface StoredCheck {
  stored: number
  mismatches: number
  firstMismatch: string | null
  connectionId: number
  streamId: number
}

/**
 * Every stored log row must be the log sent at its position (`count` logs from `logs`,
 * prepared for them): columns, and the raw object read back exactly.
 */
export function verifyStored(file: string, logs: MainnetLogs, count: number): StoredCheck {
  const reader = new Database(file, { readonly: true })
  try {
    const stored = (reader.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'log'").get() as { n: number }).n
    const first = reader.prepare("SELECT connection_id, stream_id FROM events WHERE kind = 'log' ORDER BY id LIMIT 1").get() as
      { connection_id: number; stream_id: number } | undefined
    let mismatches = 0
    let firstMismatch: string | null = null
    let seq = 0
    const rows = reader
      .prepare(
        // A watch's log is stored once, in chain_logs, its events row pointing at it (EventStore's join).
        `SELECT e.block_number, e.block_hash, COALESCE(e.tx_hash, l.tx_hash), COALESCE(e.tx_index, l.tx_index), e.log_index, COALESCE(e.address, l.address),
           COALESCE(e.topics, l.topics), COALESCE(e.data, l.data), e.removed, COALESCE(e.payload, l.raw_json)
         FROM events e LEFT JOIN chain_logs l ON e.address IS NULL AND l.connection_id = e.connection_id AND l.block_hash = e.block_hash AND l.log_index = e.log_index
         WHERE e.kind = 'log' ORDER BY e.id`,
      )
      .raw()
      .iterate() as IterableIterator<unknown[]>
    for (const row of rows) {
      const mismatch = storedRowMismatch(row, seq, logs, count)
      if (mismatch) {
        mismatches += 1
        firstMismatch ??= mismatch
      }
      seq += 1
    }
    return { stored, mismatches, firstMismatch, connectionId: first?.connection_id ?? 1, streamId: first?.stream_id ?? 1 }
  } finally {
    reader.close()
  }
}

/**
 * Why the stored row at position `seq` (block number, block hash, tx hash, tx index, log index, address, topics, data,
 * removed as 0/1, raw log) is not the log sent there; null when it is.
 */
export function storedRowMismatch(row: unknown[], seq: number, logs: MainnetLogs, count: number): string | null {
  const e = seq < count ? logs.row(seq) : null
  const want = e ? [e.blockNumber, e.blockHash, e.transactionHash, e.transactionIndex, e.logIndex, e.address, e.topics, e.data, 0] : []
  const raw = e ? decodeRawLog(row[9] as string | null, { ...e, topics: e.topics.split(',') }) : null
  if (e && want.every((value, i) => value === row[i]) && JSON.stringify(raw) === JSON.stringify(wireObject(e))) return null
  return `row ${seq + 1}: stored ${JSON.stringify(row)}, sent ${JSON.stringify(want)}`
}

/* ------------------------------------------------------------------ the engine path */

export interface EngineOptions {
  /** Blocks the chain produces, LOGS_PER_BLOCK logs each: `logs` in all. */
  blocks: number
  logs: number
  /** The sent logs, prepared for `logs` (read for the check afterwards). */
  expected: () => MainnetLogs
  timeoutMs: number
  profile: boolean
  verbose: boolean
  /** The CPU profile's name (bench/.profiles/<name>-<date>.cpuprofile); 'engine' by default. */
  name?: string
}

export interface EngineResult extends StoredCheck {
  rate: number
  seconds: number
  rssStartMb: number
  rssPeakMb: number
  cpuPercent: number
  serverCpuPercent: number
  gcMs: number
  times: Map<string, number>
  errors: string[]
  /** Logs the engine reported appended ('eventsAppended') by the time the last one was committed. */
  committed: number
}

/** The whole Engine with a `logs` subscription against the chain. */
export async function engineWatch(server: FloodServer, options: EngineOptions): Promise<EngineResult> {
  const { blocks, logs: LOGS, timeoutMs, verbose } = options
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-engine-'))
  try {
    await server.planChain(blocks)
    const chainDone = server.next('chain-done')
    const engine = new Engine({
      dataDir,
      secrets: createKeyFileSecretBox(dataDir),
      log: (message) => verbose && console.log(`  [engine] ${message}`),
    })
    const errors: string[] = []
    engine.on('storeError', (error) => errors.push(error.message))
    let committed = 0
    let committedAt = 0
    const allCommitted = new Promise<void>((resolve) => {
      engine.on('eventsAppended', ({ count }) => {
        committed += count
        if (committed >= LOGS && committedAt === 0) {
          committedAt = Date.now()
          resolve()
        }
      })
    })
    let measured: PhaseMeasurement
    let startedAt: number
    let serverCpuMs = 0
    try {
      const connection = engine.connections.add({ name: 'flood', url: server.url })
      const subscription = engine.subscriptions.create({ connectionId: connection.id, spec: logSpec() })
      // Tracking stands at the chain's head and the watch listens from the next block.
      await until('the logs watch to be active and the tracker at the head', () => {
        const view = engine.subscriptions.list(connection.id).find((s) => s.id === subscription.id)
        return view?.state === 'active' && engine.connections.liveConnection(connection.id)?.tracker.cursor?.number === FIRST_BLOCK - 1
      })
      const meters = await phaseMeters(
        options.name ?? 'engine',
        [
          ['EventStore.flush (main thread waiting for the writer thread)', EventStore.prototype, 'flush'],
          ['EventStore.exclusive (main-thread writes: finality, pruning, heads; with their wait for the writer thread)', EventStore.prototype, 'exclusive'],
          [
            'SqliteChainStore.appendBlocks (the rows of a group of blocks and their logs, made on the main thread; the writer thread commits them)',
            SqliteChainStore.prototype,
            'appendBlocks',
          ],
          ['SqliteChainStore.canonicalRange (read back for the watch)', SqliteChainStore.prototype, 'canonicalRange'],
        ],
        options.profile,
      )
      startedAt = server.go()
      await withTimeout(allCommitted, timeoutMs, () => `engine: only ${int(committed)} of ${int(LOGS)} logs committed after ${timeoutMs} ms`)
      measured = await meters.stop()
      serverCpuMs = (await chainDone).cpuMs
    } finally {
      await engine.close()
    }
    const seconds = (committedAt - startedAt) / 1000
    return {
      rate: LOGS / seconds,
      seconds,
      rssStartMb: measured.startMb,
      rssPeakMb: measured.peakMb,
      cpuPercent: measured.cpuMs / 10 / seconds,
      serverCpuPercent: serverCpuMs / 10 / seconds,
      gcMs: measured.gcMs,
      times: measured.times,
      errors,
      committed,
      ...verifyStored(path.join(dataDir, DATABASE_FILE), options.expected(), LOGS),
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

/* ------------------------------------------------------------------ raw baseline */

export interface RawResult {
  rate: number
  seconds: number
  stored: number
  sql: string
  batch: number
}

/**
 * The same rows straight into SQLite, with the store's own statements and EventStore's batch
 * size, nothing else: the first `count` logs of `logs` (prepared for them). `events`: the
 * notification path's rows (one events row a log, holding the log). `engine`: a watch's
 * rows, each log once in chain_logs (ChainStore's statement) and an events row pointing at
 * it; the one chain_blocks row per 250 logs is left out. The raw object is encoded as the
 * store encodes it (chain_logs.raw_json, or the events row's payload), before timing.
 */
export function rawInserts(kind: 'events' | 'engine', connectionId: number, streamId: number, logs: MainnetLogs, count: number): RawResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-raw-'))
  try {
    const db = openDatabase(path.join(dir, DATABASE_FILE))
    // chain_logs rows belong to a connection (foreign key), as in the engine's store.
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (?, 'raw', 'user', 'x', 'x', 0)").run(connectionId)
    // The statements the store runs and the batch size it uses (exported, so the baseline follows any change to them).
    const insert = db.prepare(INSERT_EVENT_SQL)
    const insertLog = db.prepare(INSERT_CHAIN_LOG_SQL)
    const batchSize = DEFAULT_EVENT_BATCH
    const rows = Array.from({ length: count }, (_, seq) => logs.row(seq))
    // The raw object as the store encodes it (in chain_logs, or the notification path's payload).
    const rawJson = rows.map((r) => encodeRawLog({ ...r, topics: r.topics.split(',') }, wireObject(r)))
    const batch = db.transaction((from: number, to: number) => {
      for (let seq = from; seq < to; seq++) {
        const r = rows[seq]!
        if (kind === 'events') {
          insert.run(
            connectionId,
            streamId,
            'log',
            r.blockNumber,
            r.blockHash,
            r.transactionHash,
            r.transactionIndex,
            r.logIndex,
            r.address,
            r.topics,
            r.data,
            0,
            rawJson[seq],
            Date.now(),
          )
        } else {
          insertLog.run(connectionId, r.blockHash, r.blockNumber, r.logIndex, r.transactionHash, r.transactionIndex, r.address, r.topics, r.data, rawJson[seq])
          insert.run(connectionId, streamId, 'log', r.blockNumber, r.blockHash, null, null, r.logIndex, null, null, null, 0, null, Date.now())
        }
      }
    })
    const started = performance.now()
    for (let from = 0; from < count; from += batchSize) batch(from, Math.min(count, from + batchSize))
    const seconds = (performance.now() - started) / 1000
    const stored = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n
    db.close()
    const sql = (kind === 'engine' ? [insertLog, insert] : [insert]).map((statement) => `\`${statement.source.replace(/\s+/g, ' ').trim()}\``).join(' and ')
    return { rate: count / seconds, seconds, stored, sql, batch: batchSize }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
