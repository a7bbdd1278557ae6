/**
 * `npm run bench:ingest`: how fast Tidewatch captures logs into SQLite.
 *
 * A local `ws` server (flood-server.mjs, its own process) serves deterministic,
 * mainnet-shaped logs (mainnet-logs.mjs: 250 per block, distinct hashes) as fast as the
 * client takes them, and two capture paths are measured on the same logs:
 *
 * 1. Engine, `logs` subscription: the whole Engine as the app and `tidewatch serve` run it.
 *    Since the chain tracker (b70bf46, 9d1e67e) a `logs` subscription is a watch: newHeads
 *    pokes the ChainTracker, which fetches each block (eth_getBlockByNumber) and its logs
 *    (eth_getLogs by block hash), stores them in chain_blocks/chain_logs, and the watch
 *    delivers them from there into `events`. The server's chain stays BENCH_CHAIN_LEAD
 *    (default 16) blocks ahead of the newest block whose logs the client fetched, so the
 *    client never waits for it. Counted from the engine's 'eventsAppended'.
 * 2. Notification path: a flood of `eth_subscription` log notifications through
 *    JsonRpcClient → UpstreamSocket → ConnectionPool.acquire → SubscriptionRunner →
 *    normalize → EventStore, wired as Engine.startRunner wires non-watch subscriptions (the
 *    Engine no longer sends `logs` this way, but every other subscription type goes
 *    through it). Counted from EventStore's onCommitted.
 *
 * Rates run from the first block/notification the server sends to the commit of the last
 * log. Afterwards every stored row is compared with the log sent at its position.
 *
 * The raw baseline, in the same run: the same rows into a fresh database opened the same
 * way (openDatabase), with EventStore's own prepared INSERT, in transactions of its batch
 * size: no network, no JSON. A path's rate over the raw rate is the figure.
 *
 * Environment: BENCH_LOGS (default 300,000; rounded up to whole blocks of 250),
 * BENCH_CEILING_LOGS (200,000), BENCH_TIMEOUT_MS (120,000), BENCH_CHAIN_LEAD (16, read by
 * the flood server), BENCH_ONLY=engine|notifications,
 * BENCH_PROFILE=1 (CPU profiles of the capture phases into bench/.profiles/; BENCHMARKS.md
 * is then left alone), BENCH_WRITE=0 (do not touch BENCHMARKS.md), BENCH_VERBOSE=1 (print
 * the engine's log).
 */
import fs from 'node:fs'
import { Session } from 'node:inspector/promises'
import os from 'node:os'
import path from 'node:path'
import { PerformanceObserver, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import WebSocket from 'ws'
import { expect, test } from 'vitest'
import { ChainStore, INSERT_CHAIN_LOG_SQL } from '../src/main/store/chain-store'
import { DATABASE_FILE, Engine } from '../src/main/engine/engine'
import { openDatabase } from '../src/main/store/database'
import { DEFAULT_EVENT_BATCH, EventStore, INSERT_EVENT_SQL } from '../src/main/store/event-store'
import { decodeRawLog, encodeRawLog } from '../src/main/store/raw-log'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { SubscriptionRunner } from '../src/main/subscriptions/subscription-runner'
import { ConnectionPool } from '../src/main/upstream/connection-pool'
import { subscriptionSpecSchema } from '../src/shared/subscription-params'
import { writeSection } from './benchmarks-md'
import { FloodServer } from './flood-upstream'
import { FIRST_BLOCK, FIRST_TIMESTAMP, LOGS_PER_BLOCK, MainnetLogs } from './mainnet-logs.mjs'
import { cpuBusy, envInt, gitCommit, machine } from './run-context'

const BLOCKS = Math.ceil(envInt('BENCH_LOGS', 300_000) / LOGS_PER_BLOCK)
const LOGS = BLOCKS * LOGS_PER_BLOCK
const CEILING_LOGS = envInt('BENCH_CEILING_LOGS', 200_000)
const TIMEOUT_MS = envInt('BENCH_TIMEOUT_MS', 120_000)
const ONLY = process.env.BENCH_ONLY ?? ''
const PROFILE = Boolean(process.env.BENCH_PROFILE && process.env.BENCH_PROFILE !== '0')
const WRITE = !PROFILE && !ONLY && process.env.BENCH_WRITE !== '0'
const VERBOSE = process.env.BENCH_VERBOSE === '1'

/** Issue 11's goals: each path's committed rate over the raw insert rate of its own rows, in the same run. */
const TARGET_RATIO = { engine: 0.6, notifications: 0.7 } as const

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const pct = (n: number): string => `${n.toFixed(1)} %`
const logSpec = () => subscriptionSpecSchema.parse({ type: 'logs', params: {} })

/* ------------------------------------------------------------------ meters */

function rssMeter(): { stop(): { startMb: number; peakMb: number } } {
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

function gcMeter(): { stop(): Promise<number> } {
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
function methodMeter(targets: [label: string, proto: object, method: string][]): { stop(): Map<string, number> } {
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

async function cpuProfiler(): Promise<{ stop(name: string): Promise<void> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 250 })
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
    },
  }
}

/** Meters one capture phase: RSS, GC, process CPU, time in the store methods, optional profile. */
async function phaseMeters(name: string, methods: [string, object, string][]) {
  const profiler = PROFILE ? await cpuProfiler() : null
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

function withTimeout<T>(promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), TIMEOUT_MS)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A full GC when the worker runs with --expose-gc (the bench config passes it). */
function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/* ------------------------------------------------------------------ checks */

let expected: MainnetLogs | null = null
function expectedLogs(): MainnetLogs {
  if (!expected) {
    expected = new MainnetLogs()
    expected.prepare(LOGS)
  }
  return expected
}

/** The log object the flood server sends for a row (geth's field order, blockTimestamp included). */
function wireObject(r: ReturnType<MainnetLogs['row']>): Record<string, unknown> {
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

/** Every stored log row must be the log sent at its position: columns, and the raw object read back exactly. */
function verify(file: string): { stored: number; mismatches: number; firstMismatch: string | null; connectionId: number; streamId: number } {
  const logs = expectedLogs()
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
      const e = seq < LOGS ? logs.row(seq) : null
      const want = e ? [e.blockNumber, e.blockHash, e.transactionHash, e.transactionIndex, e.logIndex, e.address, e.topics, e.data, 0] : []
      const raw = e ? decodeRawLog(row[9] as string | null, { ...e, topics: e.topics.split(',') }) : null
      if (!e || want.some((value, i) => value !== row[i]) || JSON.stringify(raw) !== JSON.stringify(wireObject(e))) {
        mismatches += 1
        firstMismatch ??= `row ${seq + 1}: stored ${JSON.stringify(row)}, sent ${JSON.stringify(want)}`
      }
      seq += 1
    }
    return { stored, mismatches, firstMismatch, connectionId: first?.connection_id ?? 1, streamId: first?.stream_id ?? 1 }
  } finally {
    reader.close()
  }
}

/* ------------------------------------------------------------------ phases */

interface PathResult {
  path: 'engine' | 'notifications'
  rate: number
  seconds: number
  rssStartMb: number
  rssPeakMb: number
  cpuPercent: number
  serverCpuPercent: number
  gcMs: number
  times: Map<string, number>
  stored: number
  mismatches: number
  firstMismatch: string | null
  connectionId: number
  streamId: number
  errors: string[]
  /** Share of the phase the SQLite writer thread was busy committing, when measured. */
  writerPercent?: number
}

/** Bare `ws` client on the notification flood: what the transport (and server) allow. */
async function notificationCeiling(server: FloodServer, count: number, parse: boolean): Promise<number> {
  await server.planNotifications(count)
  const ws = new WebSocket(server.url, { maxPayload: 256 * 1024 * 1024 })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  let frames = 0
  const finished = new Promise<number>((resolve) => {
    ws.on('message', (data: Buffer) => {
      if (parse) JSON.parse(data.toString('utf8'))
      // The first frame is the answer to eth_subscribe.
      if (frames++ === count) resolve(performance.now())
    })
  })
  const started = performance.now()
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['logs'] }))
  const ended = await finished
  ws.terminate()
  return count / ((ended - started) / 1000)
}

/** Bare `ws` client on the chain: per new head, eth_getBlockByNumber and eth_getLogs, parsed. */
async function chainCeiling(server: FloodServer, blocks: number): Promise<number> {
  await server.planChain(blocks)
  const ws = new WebSocket(server.url, { maxPayload: 256 * 1024 * 1024 })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  let id = 0
  const pending = new Map<number, (result: unknown) => void>()
  const heads: string[] = []
  let wake: (() => void) | null = null
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown; params?: { result: { number: string } } }
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
    else if (message.params) {
      heads.push(message.params.result.number)
      wake?.()
    }
  })
  const call = (method: string, params: unknown[]): Promise<unknown> =>
    new Promise((resolve) => {
      pending.set(++id, resolve)
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  await call('eth_subscribe', ['newHeads'])
  const done = server.next('chain-done')
  const started = server.go()
  let logs = 0
  for (let n = 0; n < blocks; n++) {
    while (heads.length === 0) await new Promise<void>((resolve) => (wake = resolve))
    const block = (await call('eth_getBlockByNumber', [heads.shift(), false])) as { hash: string }
    logs += ((await call('eth_getLogs', [{ blockHash: block.hash }])) as unknown[]).length
  }
  await done
  const seconds = (Date.now() - started) / 1000
  ws.terminate()
  return logs / seconds
}

/** The whole Engine with a `logs` subscription against the chain. */
async function engineWatch(server: FloodServer): Promise<PathResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-engine-'))
  try {
    await server.planChain(BLOCKS)
    const chainDone = server.next('chain-done')
    const engine = new Engine({
      dataDir,
      secrets: createKeyFileSecretBox(dataDir),
      log: (message) => VERBOSE && console.log(`  [engine] ${message}`),
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
    let measured: Awaited<ReturnType<Awaited<ReturnType<typeof phaseMeters>>['stop']>>
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
      const meters = await phaseMeters('engine', [
        ['EventStore.flush (main thread waiting for the writer thread)', EventStore.prototype, 'flush'],
        ['ChainStore.appendBlock (chain_blocks, chain_logs; with its wait for the writer thread to be idle)', ChainStore.prototype, 'appendBlock'],
        ['ChainStore.canonicalRange (read back for the watch)', ChainStore.prototype, 'canonicalRange'],
      ])
      startedAt = server.go()
      await withTimeout(allCommitted, () => `engine: only ${int(committed)} of ${int(LOGS)} logs committed after ${TIMEOUT_MS} ms`)
      measured = await meters.stop()
      serverCpuMs = (await chainDone).cpuMs
    } finally {
      await engine.close()
    }
    const seconds = (committedAt - startedAt) / 1000
    return {
      path: 'engine',
      rate: LOGS / seconds,
      seconds,
      rssStartMb: measured.startMb,
      rssPeakMb: measured.peakMb,
      cpuPercent: measured.cpuMs / 10 / seconds,
      serverCpuPercent: serverCpuMs / 10 / seconds,
      gcMs: measured.gcMs,
      times: measured.times,
      errors,
      ...verify(path.join(dataDir, DATABASE_FILE)),
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

/** eth_subscription notifications through the runner path into EventStore. */
async function notificationPath(server: FloodServer): Promise<PathResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-notify-'))
  const file = path.join(dataDir, DATABASE_FILE)
  try {
    await server.planNotifications(LOGS)
    const floodStarted = server.next('flood-start')
    const floodDone = server.next('flood-done')
    const meters = await phaseMeters('notifications', [['EventStore.flush (main thread waiting for the writer thread)', EventStore.prototype, 'flush']])
    const db = openDatabase(file)
    const errors: string[] = []
    let committed = 0
    let committedAt = 0
    let resolveAll: () => void = () => undefined
    const allCommitted = new Promise<void>((resolve) => (resolveAll = resolve))
    // As Engine builds its EventStore and runners (connection 1, stream 1).
    const events = new EventStore(db, {
      onError: (error) => errors.push(error.message),
      onCommitted: (batches) => {
        for (const batch of batches) committed += batch.count
        if (committed >= LOGS && committedAt === 0) {
          committedAt = Date.now()
          resolveAll()
        }
      },
    })
    const log = (message: string): void => {
      if (VERBOSE) console.log(`  [notifications] ${message}`)
    }
    const pool = new ConnectionPool({ url: server.url, log })
    const runner = new SubscriptionRunner({ pool, spec: logSpec(), sink: (event) => events.enqueue(1, 1, event), log })
    let measured: Awaited<ReturnType<typeof meters.stop>>
    let startedAt: number
    let serverCpuMs = 0
    let writerMs = 0
    try {
      pool.start()
      runner.start()
      startedAt = (await withTimeout(floodStarted, () => 'the notification flood did not start')).at
      const writerBefore = events.writerBusyMs()
      await withTimeout(allCommitted, () => `notifications: only ${int(committed)} of ${int(LOGS)} logs committed after ${TIMEOUT_MS} ms`)
      writerMs = events.writerBusyMs() - writerBefore
      measured = await meters.stop()
      serverCpuMs = (await floodDone).cpuMs
    } finally {
      await runner.stop()
      await pool.stop()
      events.close()
      db.close()
    }
    const seconds = (committedAt - startedAt) / 1000
    return {
      path: 'notifications',
      rate: LOGS / seconds,
      seconds,
      rssStartMb: measured.startMb,
      rssPeakMb: measured.peakMb,
      cpuPercent: measured.cpuMs / 10 / seconds,
      serverCpuPercent: serverCpuMs / 10 / seconds,
      gcMs: measured.gcMs,
      times: measured.times,
      errors,
      writerPercent: writerMs / 10 / seconds,
      ...verify(file),
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

interface RawResult {
  rate: number
  seconds: number
  stored: number
  sql: string
  batch: number
}

/**
 * The same rows straight into SQLite, with the store's own statements and EventStore's batch
 * size, nothing else. `events`: the notification path's rows (one events row a log, holding
 * the log). `engine`: a watch's rows, each log once in chain_logs (ChainStore's statement)
 * and an events row pointing at it; the one chain_blocks row per 250 logs is left out. The
 * raw object is encoded as the store encodes it (chain_logs.raw_json, or the events row's
 * payload), before timing.
 */
function rawInserts(kind: 'events' | 'engine', connectionId: number, streamId: number): RawResult {
  const logs = expectedLogs()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-raw-'))
  try {
    const db = openDatabase(path.join(dir, DATABASE_FILE))
    // chain_logs rows belong to a connection (foreign key), as in the engine's store.
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (?, 'raw', 'user', 'x', 'x', 0)").run(connectionId)
    // The statements the store runs and the batch size it uses (exported, so the baseline follows any change to them).
    const insert = db.prepare(INSERT_EVENT_SQL)
    const insertLog = db.prepare(INSERT_CHAIN_LOG_SQL)
    const batchSize = DEFAULT_EVENT_BATCH
    const rows = Array.from({ length: LOGS }, (_, seq) => logs.row(seq))
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
    for (let from = 0; from < LOGS; from += batchSize) batch(from, Math.min(LOGS, from + batchSize))
    const seconds = (performance.now() - started) / 1000
    const stored = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n
    db.close()
    const sql = (kind === 'engine' ? [insertLog, insert] : [insert]).map((statement) => `\`${statement.source.replace(/\s+/g, ' ').trim()}\``).join(' and ')
    return { rate: LOGS / seconds, seconds, stored, sql, batch: batchSize }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/* ------------------------------------------------------------------ report */

test(`ingest: ${int(LOGS)} logs into SQLite through the Engine and the notification path, against raw inserts`, async () => {
  const benchStarted = performance.now()
  const server = await FloodServer.start(Math.max(LOGS, CEILING_LOGS))
  let engine: PathResult | null = null
  let notifications: PathResult | null = null
  const ceilings = { receive: 0, parse: 0, chain: 0 }
  const busyBefore = await cpuBusy(1_000)
  try {
    // Capture phases first, each from a collected heap, so their RSS is their own.
    collectGarbage()
    if (ONLY !== 'notifications') engine = await engineWatch(server)
    collectGarbage()
    if (ONLY !== 'engine') notifications = await notificationPath(server)
    if (CEILING_LOGS > 0) {
      ceilings.receive = await notificationCeiling(server, CEILING_LOGS, false)
      ceilings.parse = await notificationCeiling(server, CEILING_LOGS, true)
      ceilings.chain = await chainCeiling(server, Math.ceil(CEILING_LOGS / LOGS_PER_BLOCK))
    }
  } finally {
    server.stop()
  }
  const ids = engine ?? notifications!
  const raws = { engine: rawInserts('engine', ids.connectionId, ids.streamId), notifications: rawInserts('events', ids.connectionId, ids.streamId) }
  const date = new Date().toISOString().slice(0, 10)
  const commit = gitCommit()
  const command = `${process.env.BENCH_LOGS ? `BENCH_LOGS=${process.env.BENCH_LOGS} ` : ''}npm run bench:ingest`
  const ratio = (r: PathResult) => r.rate / raws[r.path].rate
  const verdict = (r: PathResult) => (ratio(r) >= TARGET_RATIO[r.path] ? 'met' : 'missed')
  const lossFree = (r: PathResult) => r.stored === LOGS && r.mismatches === 0

  const paths: [string, PathResult][] = []
  if (engine) paths.push(['Engine, `logs` subscription (watch: newHeads → ChainTracker → getBlockByNumber + getLogs → chain_logs → watch → events)', engine])
  if (notifications)
    paths.push(['Notification path (`eth_subscription` → JsonRpcClient → ConnectionPool → SubscriptionRunner → normalize → EventStore)', notifications])

  const mainTable = [
    '| Capture path | Committed | Ratio to its raw rate | Goal | Verdict | Peak RSS | Rows checked |',
    '|---|---:|---:|---:|---|---:|---|',
    ...paths.map(
      ([label, r]) =>
        `| ${label} | **${int(r.rate)} logs/s** | **${pct(ratio(r) * 100)}** | ≥ ${pct(TARGET_RATIO[r.path] * 100)} | ${verdict(r)} | ${int(r.rssPeakMb)} MiB (${int(r.rssStartMb)} at start) | ${lossFree(r) ? `${int(r.stored)} of ${int(LOGS)}, all equal to what was sent` : `**${int(LOGS - r.stored)} missing, ${int(r.mismatches)} wrong**`} |`,
    ),
    `| Raw better-sqlite3, the engine path's rows: each log once in chain_logs and an events row pointing at it, batches of ${int(raws.engine.batch)} | ${int(raws.engine.rate)} logs/s | 100 % | | | | ${int(raws.engine.stored)} rows |`,
    `| Raw better-sqlite3, the notification path's rows: one events row a log, batches of ${int(raws.notifications.batch)} | ${int(raws.notifications.rate)} logs/s | 100 % | | | | ${int(raws.notifications.stored)} rows |`,
  ].join('\n')

  const breakdown = (r: PathResult) =>
    [
      `wall ${r.seconds.toFixed(2)} s`,
      `process CPU ${pct(r.cpuPercent)} of one core (${((r.cpuPercent * 10 * r.seconds * 1000) / LOGS).toFixed(1)} µs per log, all threads)`,
      ...(r.writerPercent !== undefined ? [`SQLite writer thread busy ${pct(r.writerPercent)}`] : []),
      ...[...r.times].map(([label, ms]) => `${label} ${pct(ms / 10 / r.seconds)}`),
      `GC pauses ${pct(r.gcMs / 10 / r.seconds)}`,
      `flood server CPU ${pct(r.serverCpuPercent)}`,
    ].join('; ')
  const context: [string, string][] = [
    ...paths.map(([label, r]): [string, string] => [`${label.split(' (')[0]}: time`, breakdown(r)]),
    ['Bare `ws` client counting notification frames (transport ceiling)', ceilings.receive ? `${int(ceilings.receive)} logs/s` : 'skipped'],
    ['Bare `ws` client, notifications + `JSON.parse` each', ceilings.parse ? `${int(ceilings.parse)} logs/s` : 'skipped'],
    ['Bare `ws` client on the chain: per head, `eth_getBlockByNumber` + `eth_getLogs`, parsed', ceilings.chain ? `${int(ceilings.chain)} logs/s` : 'skipped'],
    ['Raw phase, engine rows', `${raws.engine.seconds.toFixed(2)} s: ${raws.engine.sql}`],
    ['Raw phase, notification rows', `${raws.notifications.seconds.toFixed(2)} s: ${raws.notifications.sql}`],
  ]

  const markdown = `## Ingest: logs → SQLite

Command: \`${command}\` (the same as \`npx vitest run --config bench/vitest.bench.config.ts ingest\`; source \`bench/ingest.bench.ts\`).

A local \`ws\` server (\`bench/flood-server.mjs\`, its own process) serves ${int(LOGS)} deterministic mainnet-shaped logs (ERC-20 Transfer and Approval, Uniswap V2 Swap and Sync, Uniswap V3 Swap, WETH Deposit; ${LOGS_PER_BLOCK} per block, distinct block and transaction hashes, geth's field order) as fast as the client takes them, to two capture paths:

- **Engine, \`logs\` subscription**: the whole \`Engine\`, as the app and \`tidewatch serve\` run it. A \`logs\` subscription is a watch over the chain tracker: each newHeads notification pokes the tracker, which fetches the block (\`eth_getBlockByNumber\`) and its logs (\`eth_getLogs\` by block hash), stores them (\`chain_blocks\`, \`chain_logs\`), and the watch delivers them from there to capture, which stores each log once: its \`events\` row points at the \`chain_logs\` row (a history log the tracker never stored is written there by capture, in the same batch). The server's chain stays 16 blocks ahead of the newest block whose logs the client fetched, announcing each new block with a newHeads notification: the client never waits for the chain (as when catching up, or on a chain faster than the client). Counted from the engine's \`eventsAppended\`.
- **Notification path**: a flood of \`eth_subscription\` log notifications through \`JsonRpcClient\` → \`ConnectionPool.acquire\` → \`SubscriptionRunner\` → \`normalize\` → \`EventStore\`, wired as the Engine wires its non-watch subscriptions (every type but \`logs\` and \`newHeads\`). Counted from \`EventStore\`'s \`onCommitted\`.

In both, \`EventStore\` commits on its SQLite writer thread (\`src/main/store/sqlite-writer.ts\`: its own connection to the same WAL file, one batch in flight, the next one queued while it commits), so parsing and committing run on two cores.

A rate runs from the first block or notification the server sends to the commit of the last log; afterwards every stored row is compared with the log sent at its position. Each path has its raw baseline, in the same run: the same rows inserted into a fresh database opened the same way (\`openDatabase\`: WAL, \`synchronous = NORMAL\`, same migrations) with the store's own prepared statements, in transactions of \`EventStore\`'s batch size: no network, no JSON. For the engine path that is each log once in \`chain_logs\` (ChainStore's statement) plus its pointing \`events\` row; for the notification path one \`events\` row a log; the raw object is encoded as the store encodes it, before timing. The ratio is the figure: the share of SQLite's own insert rate of the same rows a capture path keeps. Peak RSS is the bench process's (\`process.memoryUsage().rss\` every 100 ms during the phase).

Measured ${date} at commit ${commit} on ${machine()}; the CPUs were ${pct(busyBefore * 100)} busy in the second before the run${busyBefore > 0.15 ? ' (other work was running: expect lower and noisier numbers)' : ''}.

${mainTable}

Goals (issue 11): the engine path ≥ ${pct(TARGET_RATIO.engine * 100)} and the notification path ≥ ${pct(TARGET_RATIO.notifications * 100)} of the raw insert rate of their own rows into the same schema, in the same run.

| Context | |
|---|---|
${context.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Profile a capture path with \`BENCH_PROFILE=1 BENCH_ONLY=engine npm run bench:ingest\` (or \`BENCH_ONLY=notifications\`), then \`node bench/profile-summary.mjs bench/.profiles/<file>.cpuprofile\`.
`

  const strip = (text: string) => text.replace(/\*\*|`/g, '')
  console.log(
    [
      '',
      `ingest benchmark, ${date}, commit ${commit}: ${machine()}; CPUs ${pct(busyBefore * 100)} busy before the run`,
      ...paths.map(
        ([label, r]) =>
          `  ${strip(label.split(' (')[0]!).padEnd(34)} ${int(r.rate).padStart(9)} logs/s  ${pct(ratio(r) * 100).padStart(7)} of raw  goal ${verdict(r)}  peak RSS ${int(r.rssPeakMb)} MiB  ${lossFree(r) ? 'no loss' : 'LOSS'}`,
      ),
      `  ${'Raw inserts, engine rows'.padEnd(34)} ${int(raws.engine.rate).padStart(9)} logs/s`,
      `  ${'Raw inserts, notification rows'.padEnd(34)} ${int(raws.notifications.rate).padStart(9)} logs/s`,
      ...context.map(([label, value]) => `  ${strip(label)}: ${strip(value)}`),
      `  bench wall time ${((performance.now() - benchStarted) / 1000).toFixed(1)} s${WRITE ? '; BENCHMARKS.md updated' : ''}`,
      '',
    ].join('\n'),
  )
  for (const [label, r] of paths) {
    if (r.firstMismatch) console.log(`${label}: first mismatch: ${r.firstMismatch}`)
    if (r.errors.length) console.log(`${label}: store errors: ${r.errors.join('; ')}`)
  }
  if (WRITE) writeSection('ingest', markdown)

  // The benchmark fails on wrong results only; speed is reported, not asserted.
  for (const [, r] of paths) {
    expect(r.errors).toEqual([])
    expect(r.stored).toBe(LOGS)
    expect(r.mismatches).toBe(0)
  }
  expect(raws.engine.stored).toBe(LOGS)
  expect(raws.notifications.stored).toBe(LOGS)
})
