/**
 * `npm run bench:ingest`: how fast Tidewatch captures `logs` notifications into SQLite.
 *
 * A local `ws` server (flood-server.mjs, its own process) floods a `logs` subscription with
 * mainnet-shaped `eth_subscription` notifications as fast as the client reads. The whole
 * Engine, as the desktop app and headless mode run it, connects, subscribes, parses,
 * normalizes and commits them; the rate counts logs committed to SQLite (summed from the
 * engine's 'eventsAppended'), from the first notification sent to the commit of the last.
 * Afterwards every stored row is compared with the log sent at its position: no loss, no
 * duplicate, no reordering, no corruption.
 *
 * In the same run, the raw better-sqlite3 insert rate of the same rows: a fresh database
 * opened the same way (openDatabase: WAL, synchronous=NORMAL, same migrations), EventStore's
 * INSERT statement, the same values, transactions of EventStore's batch size; no network,
 * no JSON. Tidewatch's rate over the raw rate is the figure.
 *
 * For context, two ceilings of the transport itself: a bare `ws` client that only counts
 * the frames, and one that also JSON.parses each (what any JSON-RPC client must do).
 *
 * Environment: BENCH_LOGS (default 1,000,000), BENCH_CEILING_LOGS (300,000),
 * BENCH_TIMEOUT_MS (120,000), BENCH_PROFILE=1 (CPU profile of the Tidewatch phase into
 * bench/.profiles/; BENCHMARKS.md is then left alone), BENCH_WRITE=0 (do not touch
 * BENCHMARKS.md), BENCH_VERBOSE=1 (print the engine's log).
 */
import { fork, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { Session } from 'node:inspector/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { PerformanceObserver, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import WebSocket from 'ws'
import { expect, test } from 'vitest'
import { DATABASE_FILE, Engine } from '../src/main/engine/engine'
import { openDatabase } from '../src/main/store/database'
import { EventStore } from '../src/main/store/event-store'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { subscriptionSpecSchema } from '../src/shared/subscription-params'
import { writeSection } from './benchmarks-md'
import { BLOCKS_PER_ROUND, FIRST_BLOCK, MainnetLogs, POOL_SIZE } from './mainnet-logs.mjs'

const envInt = (name: string, fallback: number): number => {
  const value = process.env[name]?.replace(/[_,]/g, '')
  return value ? Number.parseInt(value, 10) : fallback
}
const LOGS = envInt('BENCH_LOGS', 1_000_000)
const CEILING_LOGS = envInt('BENCH_CEILING_LOGS', 300_000)
const TIMEOUT_MS = envInt('BENCH_TIMEOUT_MS', 120_000)
const PROFILE = Boolean(process.env.BENCH_PROFILE && process.env.BENCH_PROFILE !== '0')
const WRITE = !PROFILE && process.env.BENCH_WRITE !== '0'
const VERBOSE = process.env.BENCH_VERBOSE === '1'

const TARGET_RATE = 100_000
const TARGET_RATIO = 0.5
/** EventStore's default maxBatch: one transaction per this many rows. */
const BATCH = 5_000
/** EventStore's INSERT, verbatim. */
const INSERT_SQL = `INSERT INTO events
      (connection_id, stream_id, kind, block_number, block_hash, tx_hash, tx_index, log_index, address, topics, data, removed, payload, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const versionOf = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version

/* ------------------------------------------------------------------ flood server */

type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'planned' }
  | { type: 'flood-start'; at: number; count: number }
  | { type: 'flood-done'; at: number; sent: number; cpuMs: number }

class FloodServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(prepare: number): Promise<FloodServer> {
    const child = fork(path.join(benchDir, 'flood-server.mjs'), [], {
      execArgv: [],
      env: { ...process.env, BENCH_FLOOD_PREPARE: String(prepare) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`flood server exited (code ${code})`))))
    exited.catch(() => undefined)
    const ready = await Promise.race([FloodServer.next(child, 'ready'), exited])
    return new FloodServer(child, `ws://127.0.0.1:${ready.port}`)
  }

  private static next<T extends ServerMessage['type']>(child: ChildProcess, type: T): Promise<Extract<ServerMessage, { type: T }>> {
    return new Promise((resolve) => {
      const onMessage = (message: ServerMessage): void => {
        if (message.type !== type) return
        child.off('message', onMessage)
        resolve(message as Extract<ServerMessage, { type: T }>)
      }
      child.on('message', onMessage)
    })
  }

  /** Registers at once, so a message that arrives before the caller awaits is not missed. */
  next<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    return FloodServer.next(this.child, type)
  }

  /** The number of notifications the next `logs` subscription gets. */
  async plan(count: number): Promise<void> {
    const planned = this.next('planned')
    this.child.send({ type: 'plan', count })
    await planned
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect()
    this.child.kill()
  }
}

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

function gcMeter(): { stop(): Promise<{ ms: number; count: number }> } {
  let ms = 0
  let count = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      ms += entry.duration
      count += 1
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  return {
    async stop() {
      // GC entries are delivered asynchronously.
      await new Promise((resolve) => setTimeout(resolve, 50))
      observer.disconnect()
      return { ms, count }
    },
  }
}

/** Time spent in EventStore.flush (the SQLite transactions), measured around the real method. */
function flushMeter(): { stop(): { ms: number; batches: number; rows: number } } {
  const original = EventStore.prototype.flush
  const stats = { ms: 0, batches: 0, rows: 0 }
  EventStore.prototype.flush = function (this: EventStore): void {
    const rows = this.pendingCount
    const started = performance.now()
    original.call(this)
    if (rows === 0) return
    stats.ms += performance.now() - started
    stats.batches += 1
    stats.rows += rows
  }
  return {
    stop() {
      EventStore.prototype.flush = original
      return stats
    },
  }
}

async function cpuProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 250 })
  await session.post('Profiler.start')
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop')
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, JSON.stringify(profile))
      session.disconnect()
    },
  }
}

/* ------------------------------------------------------------------ phases */

/** A bare `ws` client on the flood: the rate the transport (and server) allows. */
async function ceiling(server: FloodServer, count: number, parse: boolean): Promise<number> {
  await server.plan(count)
  const ws = new WebSocket(server.url, { maxPayload: 256 * 1024 * 1024 })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  let frames = 0
  let started = 0
  const finished = new Promise<number>((resolve) => {
    ws.on('message', (data: Buffer) => {
      if (parse) JSON.parse(data.toString('utf8'))
      // The first frame is the answer to eth_subscribe.
      if (frames++ === count) resolve(performance.now())
    })
  })
  started = performance.now()
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['logs'] }))
  const ended = await finished
  ws.terminate()
  return count / ((ended - started) / 1000)
}

interface TidewatchResult {
  rate: number
  seconds: number
  rssStartMb: number
  rssPeakMb: number
  cpuPercent: number
  serverCpuPercent: number
  gcMs: number
  flush: { ms: number; batches: number; rows: number }
  stored: number
  mismatches: number
  firstMismatch: string | null
  connectionId: number
  streamId: number
  storeErrors: string[]
  logs: MainnetLogs
}

async function tidewatch(server: FloodServer, count: number): Promise<TidewatchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-'))
  try {
    await server.plan(count)
    const floodStarted = server.next('flood-start')
    const floodDone = server.next('flood-done')
    const profiler = PROFILE ? await cpuProfiler() : null
    const rss = rssMeter()
    const gc = gcMeter()
    const flush = flushMeter()
    const cpuBefore = process.cpuUsage()

    const engineLog: string[] = []
    const engine = new Engine({
      dataDir,
      secrets: createKeyFileSecretBox(dataDir),
      log: (message) => (VERBOSE ? console.log(`  [engine] ${message}`) : engineLog.push(message)),
    })
    const storeErrors: string[] = []
    engine.on('storeError', (error) => storeErrors.push(error.message))
    let committed = 0
    let committedAt = 0
    const allCommitted = new Promise<void>((resolve) => {
      engine.on('eventsAppended', ({ count: n }) => {
        committed += n
        if (committed >= count && committedAt === 0) {
          committedAt = Date.now()
          resolve()
        }
      })
    })
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${committed.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} logs committed after ${TIMEOUT_MS} ms`)), TIMEOUT_MS)
    })

    let stats: { seconds: number; cpu: NodeJS.CpuUsage; rss: { startMb: number; peakMb: number }; gc: { ms: number }; flush: TidewatchResult['flush']; serverCpuMs: number; serverSeconds: number }
    try {
      const connection = engine.addConnection({ name: 'flood', url: server.url })
      engine.createSubscription({ connectionId: connection.id, spec: subscriptionSpecSchema.parse({ type: 'logs', params: {} }) })
      const { at: startedAt } = await Promise.race([floodStarted, timedOut])
      await Promise.race([allCommitted, timedOut])
      const cpu = process.cpuUsage(cpuBefore)
      const done = await floodDone
      if (profiler) {
        const file = path.join(benchDir, '.profiles', `ingest-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`)
        await profiler.stop(file)
        console.log(`CPU profile of the Tidewatch phase: ${path.relative(process.cwd(), file)} (summary: node bench/profile-summary.mjs ${path.relative(process.cwd(), file)})`)
      }
      stats = {
        seconds: (committedAt - startedAt) / 1000,
        cpu,
        rss: rss.stop(),
        gc: await gc.stop(),
        flush: flush.stop(),
        serverCpuMs: done.cpuMs,
        serverSeconds: (done.at - startedAt) / 1000,
      }
    } finally {
      clearTimeout(timer)
      rss.stop()
      flush.stop()
      await engine.close()
    }
    if (VERBOSE === false && storeErrors.length > 0) console.log(engineLog.join('\n'))

    // Every stored row must be the log sent at its position.
    const logs = new MainnetLogs()
    logs.prepare(count)
    const reader = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true })
    const stored = (reader.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'log'").get() as { n: number }).n
    const first = reader.prepare("SELECT connection_id, stream_id FROM events WHERE kind = 'log' ORDER BY id LIMIT 1").get() as { connection_id: number; stream_id: number } | undefined
    let mismatches = 0
    let firstMismatch: string | null = null
    let seq = 0
    const rows = reader
      .prepare("SELECT block_number, block_hash, tx_hash, tx_index, log_index, address, topics, data, removed, payload FROM events WHERE kind = 'log' ORDER BY id")
      .raw()
      .iterate() as IterableIterator<unknown[]>
    for (const row of rows) {
      const e = logs.row(seq)
      const expected = [e.blockNumber, e.blockHash, e.transactionHash, e.transactionIndex, e.logIndex, e.address, e.topics, e.data, 0, null]
      if (seq >= count || row.some((value, i) => value !== expected[i])) {
        mismatches += 1
        firstMismatch ??= `row ${seq + 1}: stored ${JSON.stringify(row)}, sent ${JSON.stringify(expected)}`
      }
      seq += 1
    }
    reader.close()

    return {
      rate: count / stats.seconds,
      seconds: stats.seconds,
      rssStartMb: stats.rss.startMb,
      rssPeakMb: stats.rss.peakMb,
      cpuPercent: ((stats.cpu.user + stats.cpu.system) / 1000 / (stats.seconds * 1000)) * 100,
      serverCpuPercent: (stats.serverCpuMs / (stats.serverSeconds * 1000)) * 100,
      gcMs: stats.gc.ms,
      flush: stats.flush,
      stored,
      mismatches,
      firstMismatch,
      connectionId: first?.connection_id ?? 1,
      streamId: first?.stream_id ?? 1,
      storeErrors,
      logs,
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

/** The same rows, straight into SQLite: EventStore's statement and batch size, nothing else. */
function rawInserts(logs: MainnetLogs, count: number, connectionId: number, streamId: number): { rate: number; seconds: number; stored: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-raw-'))
  try {
    const db = openDatabase(path.join(dir, DATABASE_FILE))
    const insert = db.prepare(INSERT_SQL)
    const { templates, blockHashes, txHashes, txSlots } = logs
    const batch = db.transaction((from: number, to: number) => {
      for (let seq = from; seq < to; seq++) {
        const round = (seq / POOL_SIZE) | 0
        const t = templates[seq % POOL_SIZE]!
        const block = round * BLOCKS_PER_ROUND + t.blockSlot
        insert.run(connectionId, streamId, 'log', FIRST_BLOCK + block, blockHashes[block], txHashes[round * txSlots + t.txSlot], t.transactionIndex, t.logIndex, t.address, t.topicsJoined, t.data, 0, null, Date.now())
      }
    })
    const started = performance.now()
    for (let from = 0; from < count; from += BATCH) batch(from, Math.min(count, from + BATCH))
    const seconds = (performance.now() - started) / 1000
    const stored = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n
    db.close()
    return { rate: count / seconds, seconds, stored }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/* ------------------------------------------------------------------ report */

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const pct = (n: number): string => `${n.toFixed(1)} %`

function machine(): string {
  const cpus = os.cpus()
  const sqlite = (() => {
    const db = new Database(':memory:')
    const v = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
    db.close()
    return v
  })()
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}; Node ${process.version}, SQLite ${sqlite}, better-sqlite3 ${versionOf('better-sqlite3')}, ws ${versionOf('ws')}`
}

test(`ingest: ${LOGS.toLocaleString('en-US')} logs through the Engine into SQLite, against raw inserts`, async () => {
  const benchStarted = performance.now()
  const server = await FloodServer.start(Math.max(LOGS, CEILING_LOGS))
  let result: TidewatchResult
  let receiveOnly = 0
  let receiveParse = 0
  try {
    if (CEILING_LOGS > 0) {
      receiveOnly = await ceiling(server, CEILING_LOGS, false)
      receiveParse = await ceiling(server, CEILING_LOGS, true)
    }
    result = await tidewatch(server, LOGS)
  } finally {
    server.stop()
  }
  const raw = rawInserts(result.logs, LOGS, result.connectionId, result.streamId)
  const ratio = result.rate / raw.rate
  const met = result.rate >= TARGET_RATE && ratio >= TARGET_RATIO
  const lossFree = result.stored === LOGS && result.mismatches === 0
  const date = new Date().toISOString().slice(0, 10)
  const env = [
    process.env.BENCH_LOGS ? `BENCH_LOGS=${process.env.BENCH_LOGS}` : '',
    process.env.BENCH_CEILING_LOGS ? `BENCH_CEILING_LOGS=${process.env.BENCH_CEILING_LOGS}` : '',
  ].filter(Boolean)
  const command = `${env.length ? `${env.join(' ')} ` : ''}npm run bench:ingest`

  const rows: [string, string, string][] = [
    ['**Tidewatch: committed to SQLite** (ws → JSON-RPC client → pool → runner → normalize → EventStore)', `**${int(result.rate)} logs/s**`, `target ≥ ${int(TARGET_RATE)}`],
    ['Raw better-sqlite3 inserts of the same rows (same schema, statement, batch of 5,000)', `${int(raw.rate)} rows/s`, ''],
    ['**Ratio Tidewatch / raw**', `**${pct(ratio * 100)}**`, `target ≥ ${pct(TARGET_RATIO * 100)}`],
    ['Peak RSS during the Tidewatch phase (sampled every 100 ms)', `${int(result.rssPeakMb)} MiB`, `${int(result.rssStartMb)} MiB before the engine started`],
    ['Stored rows equal to the logs sent, in order', `${int(result.stored - result.mismatches)} of ${int(LOGS)}`, lossFree ? 'no loss' : `**${int(LOGS - result.stored)} missing, ${int(result.mismatches)} wrong**`],
  ]
  const context: [string, string][] = [
    ['Transport ceiling: bare `ws` client counting frames', receiveOnly ? `${int(receiveOnly)} logs/s` : 'skipped'],
    ['Bare `ws` client + `JSON.parse` of each frame', receiveParse ? `${int(receiveParse)} logs/s` : 'skipped'],
    ['Tidewatch phase wall time / process CPU', `${result.seconds.toFixed(2)} s / ${pct(result.cpuPercent)} of one core`],
    ['… in EventStore.flush (SQLite transactions)', `${pct((result.flush.ms / 1000 / result.seconds) * 100)} of wall time, ${int(result.flush.batches)} batches, ${int(result.flush.rows / Math.max(1, result.flush.batches))} rows each`],
    ['… in GC pauses', `${pct((result.gcMs / 1000 / result.seconds) * 100)} of wall time`],
    ['Flood server CPU (separate process)', pct(result.serverCpuPercent)],
    ['Raw phase wall time', `${raw.seconds.toFixed(2)} s`],
  ]

  const markdown = `## Ingest: \`logs\` notifications → SQLite

Command: \`${command}\` (same as \`npx vitest run --config bench/vitest.bench.config.ts ingest\`; \`bench/ingest.bench.ts\`)

A local \`ws\` server (\`bench/flood-server.mjs\`, its own process) floods a \`logs\` subscription with ${int(LOGS)} mainnet-shaped \`eth_subscription\` notifications (ERC-20 Transfer and Approval, Uniswap V2 Swap and Sync, Uniswap V3 Swap, WETH Deposit; about 780 bytes each, geth's field order; distinct block and transaction hashes and log indexes) as fast as the client reads them. The whole \`Engine\`, as the app and \`tidewatch serve\` run it, connects, subscribes (and keeps its own \`newHeads\` subscription), parses, normalizes and commits; the rate counts logs committed to SQLite, summed from the engine's \`eventsAppended\`, from the first notification sent to the commit of the last. Afterwards every stored row is compared with the log sent at its position. The raw baseline, in the same run, inserts the same rows into a fresh database opened the same way (\`openDatabase\`: WAL, \`synchronous = NORMAL\`, same migrations) with EventStore's \`INSERT\`, in transactions of EventStore's batch size (5,000): no network, no JSON. The ratio is the figure: the share of SQLite's own insert rate that the capture path keeps.

Measured ${date} on ${machine()}.

| | Result | |
|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

**Target (≥ ${int(TARGET_RATE)} logs/s committed and ≥ ${pct(TARGET_RATIO * 100)} of the raw rate): ${met ? 'met' : 'missed'}.**

| Context | |
|---|---|
${context.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Profile the capture path with \`BENCH_PROFILE=1 npm run bench:ingest\`, then \`node bench/profile-summary.mjs bench/.profiles/<file>.cpuprofile\`.
`

  const plain = [
    '',
    `ingest benchmark, ${date}: ${machine()}`,
    ...rows.map(([label, value, note]) => `  ${label.replace(/\*\*/g, '').padEnd(104)} ${value.replace(/\*\*/g, '').padStart(16)}  ${note.replace(/\*\*/g, '')}`),
    `  target ${met ? 'MET' : 'MISSED'}`,
    ...context.map(([label, value]) => `  ${label.replace(/`/g, '').padEnd(104)} ${value}`),
    `  bench wall time ${((performance.now() - benchStarted) / 1000).toFixed(1)} s${WRITE ? `; wrote ${path.relative(process.cwd(), path.join(benchDir, '..', 'BENCHMARKS.md'))}` : ''}`,
    '',
  ].join('\n')
  console.log(plain)
  if (result.firstMismatch) console.log(`first mismatch: ${result.firstMismatch}`)
  if (result.storeErrors.length) console.log(`store errors: ${result.storeErrors.join('; ')}`)
  if (WRITE) writeSection('ingest', markdown)

  // The benchmark fails on wrong results only; speed is reported, not asserted.
  expect(result.storeErrors).toEqual([])
  expect(result.stored).toBe(LOGS)
  expect(result.mismatches).toBe(0)
  expect(raw.stored).toBe(LOGS)
})
