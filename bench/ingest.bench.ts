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
 * 3. The same notification path into PostgreSQL (PostgresCaptureWriter) on a throwaway
 *    server the bench starts (postgres-path.ts), against a raw COPY of the same rows into the
 *    same schema (issue 13). Where PostgreSQL cannot start, the bench says why and skips it.
 *
 * Rates run from the first block/notification the server sends to the commit of the last
 * log. Afterwards every stored row is compared with the log sent at its position.
 *
 * The raw baseline, in the same run: the same rows into a fresh database opened the same
 * way (openDatabase), with EventStore's own prepared INSERT, in transactions of its batch
 * size: no network, no JSON. A path's rate over the raw rate is the figure.
 *
 * The engine phase, the row check, the raw baseline and the meters live in engine-path.ts
 * (shared with bench:peers).
 *
 * Environment: BENCH_LOGS (default 300,000; rounded up to whole blocks of 250),
 * BENCH_CEILING_LOGS (200,000), BENCH_TIMEOUT_MS (120,000), BENCH_CHAIN_LEAD (16, read by
 * the flood server), BENCH_ONLY=engine|notifications|postgres,
 * BENCH_PROFILE=1 (CPU profiles of the capture phases into bench/.profiles/; BENCHMARKS.md
 * is then left alone), BENCH_WRITE=0 (do not touch BENCHMARKS.md), BENCH_VERBOSE=1 (print
 * the engine's log).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { expect, test } from 'vitest'
import { DATABASE_FILE } from '../src/main/engine/engine'
import { openDatabase } from '../src/main/store/database'
import { DEFAULT_EVENT_BATCH, EventStore } from '../src/main/store/event-store'
import { SubscriptionRunner } from '../src/main/subscriptions/subscription-runner'
import { ConnectionPool } from '../src/main/upstream/connection-pool'
import { writeSection } from './benchmarks-md'
import { collectGarbage, engineWatch, logSpec, phaseMeters, rawInserts, verifyStored, withTimeout } from './engine-path'
import { FloodServer } from './flood-upstream'
import { benchPostgres, postgresNotificationPath, rawCopy } from './postgres-path'
import { LOGS_PER_BLOCK, MainnetLogs } from './mainnet-logs.mjs'
import { cpuBusy, envInt, gitCommit, machine } from './run-context'

const BLOCKS = Math.ceil(envInt('BENCH_LOGS', 300_000) / LOGS_PER_BLOCK)
const LOGS = BLOCKS * LOGS_PER_BLOCK
const CEILING_LOGS = envInt('BENCH_CEILING_LOGS', 200_000)
const TIMEOUT_MS = envInt('BENCH_TIMEOUT_MS', 120_000)
const ONLY = process.env.BENCH_ONLY ?? ''
const PROFILE = Boolean(process.env.BENCH_PROFILE && process.env.BENCH_PROFILE !== '0')
const WRITE = !PROFILE && !ONLY && process.env.BENCH_WRITE !== '0'
const VERBOSE = process.env.BENCH_VERBOSE === '1'

/** Issue 11's goals (issue 13's for PostgreSQL): each path's committed rate over the raw insert (COPY) rate of its own rows, in the same run. */
const TARGET_RATIO = { engine: 0.6, notifications: 0.7, postgres: 0.5 } as const
const runs = (phase: 'engine' | 'notifications' | 'postgres'): boolean => !ONLY || ONLY === phase

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const pct = (n: number): string => `${n.toFixed(1)} %`

/* ------------------------------------------------------------------ checks */

let expected: MainnetLogs | null = null
function expectedLogs(): MainnetLogs {
  if (!expected) {
    expected = new MainnetLogs()
    expected.prepare(LOGS)
  }
  return expected
}

/* ------------------------------------------------------------------ phases */

interface PathResult {
  path: keyof typeof TARGET_RATIO
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
  /** Share of the phase a PostgreSQL batch was with the server. */
  batchPercent?: number
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

/** eth_subscription notifications through the runner path into EventStore. */
async function notificationPath(server: FloodServer): Promise<PathResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-notify-'))
  const file = path.join(dataDir, DATABASE_FILE)
  try {
    await server.planNotifications(LOGS)
    const floodStarted = server.next('flood-start')
    const floodDone = server.next('flood-done')
    const meters = await phaseMeters(
      'notifications',
      [['EventStore.flush (main thread waiting for the writer thread)', EventStore.prototype, 'flush']],
      PROFILE,
    )
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
      startedAt = (await withTimeout(floodStarted, TIMEOUT_MS, () => 'the notification flood did not start')).at
      const writerBefore = events.writerBusyMs()
      await withTimeout(allCommitted, TIMEOUT_MS, () => `notifications: only ${int(committed)} of ${int(LOGS)} logs committed after ${TIMEOUT_MS} ms`)
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
      ...verifyStored(file, expectedLogs(), LOGS),
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

/* ------------------------------------------------------------------ report */

test(`ingest: ${int(LOGS)} logs into SQLite through the Engine and the notification path, and into PostgreSQL, against raw inserts and COPY`, async () => {
  const benchStarted = performance.now()
  const server = await FloodServer.start(Math.max(LOGS, CEILING_LOGS))
  let engine: PathResult | null = null
  let notifications: PathResult | null = null
  let postgres: PathResult | null = null
  let copy: Awaited<ReturnType<typeof rawCopy>> | null = null
  const ceilings = { receive: 0, parse: 0, chain: 0 }
  const busyBefore = await cpuBusy(1_000)
  // Started before measuring anything; stopped at the end (a crashed run stops it on exit).
  const pg = runs('postgres') ? await benchPostgres() : { skipReason: `BENCH_ONLY=${ONLY}` }
  if ('skipReason' in pg) console.log(`ingest: the PostgreSQL row skips: ${pg.skipReason}`)
  try {
    // Capture phases first, each from a collected heap, so their RSS is their own.
    collectGarbage()
    if (runs('engine'))
      engine = {
        path: 'engine',
        ...(await engineWatch(server, { blocks: BLOCKS, logs: LOGS, expected: expectedLogs, timeoutMs: TIMEOUT_MS, profile: PROFILE, verbose: VERBOSE })),
      }
    collectGarbage()
    if (runs('notifications')) notifications = await notificationPath(server)
    collectGarbage()
    if ('server' in pg) {
      const result = await postgresNotificationPath(server, pg.server, {
        logs: LOGS,
        expected: expectedLogs,
        timeoutMs: TIMEOUT_MS,
        profile: PROFILE,
        verbose: VERBOSE,
      })
      postgres = { path: 'postgres', ...result, batchPercent: result.inFlightPercent }
    }
    if (CEILING_LOGS > 0) {
      ceilings.receive = await notificationCeiling(server, CEILING_LOGS, false)
      ceilings.parse = await notificationCeiling(server, CEILING_LOGS, true)
      ceilings.chain = await chainCeiling(server, Math.ceil(CEILING_LOGS / LOGS_PER_BLOCK))
    }
  } finally {
    server.stop()
  }
  const ids = engine ?? notifications ?? postgres ?? { connectionId: 1, streamId: 1 }
  try {
    if ('server' in pg && postgres) copy = await rawCopy(pg.server, ids.connectionId, ids.streamId, expectedLogs(), LOGS)
  } finally {
    if ('server' in pg) await pg.server.stop()
  }
  const raws = {
    engine: rawInserts('engine', ids.connectionId, ids.streamId, expectedLogs(), LOGS),
    notifications: rawInserts('events', ids.connectionId, ids.streamId, expectedLogs(), LOGS),
    postgres: copy ?? { rate: 0, seconds: 0, stored: 0, sql: '', batch: 0 },
  }
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
  if (postgres)
    paths.push([
      'Notification path into PostgreSQL (`eth_subscription` → JsonRpcClient → ConnectionPool → SubscriptionRunner → normalize → PostgresCaptureWriter)',
      postgres,
    ])

  const mainTable = [
    '| Capture path | Committed | Ratio to its raw rate | Goal | Verdict | Peak RSS | Rows checked |',
    '|---|---:|---:|---:|---|---:|---|',
    ...paths.map(
      ([label, r]) =>
        `| ${label} | **${int(r.rate)} logs/s** | **${pct(ratio(r) * 100)}** | ≥ ${pct(TARGET_RATIO[r.path] * 100)} | ${verdict(r)} | ${int(r.rssPeakMb)} MiB (${int(r.rssStartMb)} at start) | ${lossFree(r) ? `${int(r.stored)} of ${int(LOGS)}, all equal to what was sent` : `**${int(LOGS - r.stored)} missing, ${int(r.mismatches)} wrong**`} |`,
    ),
    `| Raw better-sqlite3, the engine path's rows: each log once in chain_logs and an events row pointing at it, batches of ${int(raws.engine.batch)} | ${int(raws.engine.rate)} logs/s | 100 % | | | | ${int(raws.engine.stored)} rows |`,
    `| Raw better-sqlite3, the notification path's rows: one events row a log, batches of ${int(raws.notifications.batch)} | ${int(raws.notifications.rate)} logs/s | 100 % | | | | ${int(raws.notifications.stored)} rows |`,
    ...(copy
      ? [
          `| Raw PostgreSQL COPY, the notification path's rows into the same schema: \`COPY events FROM STDIN\` (pg-copy-streams), ${int(copy.batch)} rows a COPY | ${int(copy.rate)} logs/s | 100 % | | | | ${int(copy.stored)} rows |`,
        ]
      : []),
  ].join('\n')

  const breakdown = (r: PathResult) =>
    [
      `wall ${r.seconds.toFixed(2)} s`,
      `process CPU ${pct(r.cpuPercent)} of one core (${((r.cpuPercent * 10 * r.seconds * 1000) / LOGS).toFixed(1)} µs per log, all threads)`,
      ...(r.writerPercent !== undefined ? [`SQLite writer thread busy ${pct(r.writerPercent)}`] : []),
      ...(r.batchPercent !== undefined ? [`a batch with the PostgreSQL server (first statement to COMMIT's answer) ${pct(r.batchPercent)}`] : []),
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
    ...(copy ? [['Raw phase, PostgreSQL COPY', `${copy.seconds.toFixed(2)} s: ${copy.sql}`] as [string, string]] : []),
    [
      'PostgreSQL',
      'server' in pg
        ? `${pg.server.version}, a throwaway server started by the bench (initdb, fsync off, synchronous_commit off), on this machine`
        : `skipped: ${pg.skipReason}`,
    ],
  ]

  const markdown = `## Ingest: logs → SQLite and PostgreSQL

Command: \`${command}\` (the same as \`npx vitest run --config bench/vitest.bench.config.ts ingest\`; source \`bench/ingest.bench.ts\`).

A local \`ws\` server (\`bench/flood-server.mjs\`, its own process) serves ${int(LOGS)} deterministic mainnet-shaped logs (ERC-20 Transfer and Approval, Uniswap V2 Swap and Sync, Uniswap V3 Swap, WETH Deposit; ${LOGS_PER_BLOCK} per block, distinct block and transaction hashes, geth's field order) as fast as the client takes them, to these capture paths:

- **Engine, \`logs\` subscription**: the whole \`Engine\`, as the app and \`tidewatch serve\` run it. A \`logs\` subscription is a watch over the chain tracker: each newHeads notification pokes the tracker, which fetches the block (\`eth_getBlockByNumber\`) and its logs (\`eth_getLogs\` by block hash), stores them (\`chain_blocks\`, \`chain_logs\`), and the watch delivers them from there to capture, which stores each log once: its \`events\` row points at the \`chain_logs\` row (a history log the tracker never stored is written there by capture, in the same batch). The server's chain stays 16 blocks ahead of the newest block whose logs the client fetched, announcing each new block with a newHeads notification: the client never waits for the chain (as when catching up, or on a chain faster than the client). Counted from the engine's \`eventsAppended\`.
- **Notification path**: a flood of \`eth_subscription\` log notifications through \`JsonRpcClient\` → \`ConnectionPool.acquire\` → \`SubscriptionRunner\` → \`normalize\` → \`EventStore\`, wired as the Engine wires its non-watch subscriptions (every type but \`logs\` and \`newHeads\`). Counted from \`EventStore\`'s \`onCommitted\`.

- **Notification path into PostgreSQL** (issue 13): the same flood and path, into \`PostgresCaptureWriter\` (\`src/main/store/postgres/capture-writer.ts\`) on a throwaway PostgreSQL the bench starts itself (\`test/helpers/throwaway-postgres.ts\`: initdb into a temp dir, fsync and synchronous_commit off, on this machine, so the server's processes share its cores with the bench). One batch in flight on one connection, in one transaction; its events rows by COPY (ids taken from the sequence first, so none is read back), falling back to an \`unnest\` INSERT ... \`ON CONFLICT DO NOTHING RETURNING\` when a row exists already (none does here). Its baseline is a raw COPY of the same rows (one events row a log, the raw object encoded as the store encodes it) into a fresh database of the same schema: \`COPY events FROM STDIN\` through pg-copy-streams, COPY text formatted before timing, ${int(DEFAULT_EVENT_BATCH)} rows a COPY. Where PostgreSQL cannot be started the row is skipped, with the reason below.

In the SQLite paths, \`EventStore\` commits on its SQLite writer thread (\`src/main/store/sqlite-writer.ts\`: its own connection to the same WAL file, one batch in flight, the next one queued while it commits), so parsing and committing run on two cores.

A rate runs from the first block or notification the server sends to the commit of the last log; afterwards every stored row is compared with the log sent at its position. Each path has its raw baseline, in the same run: the same rows inserted into a fresh database opened the same way (\`openDatabase\`: WAL, \`synchronous = NORMAL\`, same migrations) with the store's own prepared statements, in transactions of \`EventStore\`'s batch size: no network, no JSON. For the engine path that is each log once in \`chain_logs\` (ChainStore's statement) plus its pointing \`events\` row; for the notification path one \`events\` row a log; the raw object is encoded as the store encodes it, before timing. The ratio is the figure: the share of SQLite's own insert rate of the same rows a capture path keeps. Peak RSS is the bench process's (\`process.memoryUsage().rss\` every 100 ms during the phase).

Measured ${date} at commit ${commit} on ${machine()}; the CPUs were ${pct(busyBefore * 100)} busy in the second before the run${busyBefore > 0.15 ? ' (other work was running: expect lower and noisier numbers)' : ''}.

${mainTable}

Goals (issue 11): the engine path ≥ ${pct(TARGET_RATIO.engine * 100)} and the notification path ≥ ${pct(TARGET_RATIO.notifications * 100)} of the raw insert rate of their own rows into the same schema, in the same run; (issue 13) the notification path into PostgreSQL ≥ ${pct(TARGET_RATIO.postgres * 100)} of a raw COPY of the same rows into the same schema, in the same run.

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
      ...(copy ? [`  ${'Raw PostgreSQL COPY'.padEnd(34)} ${int(copy.rate).padStart(9)} logs/s`] : []),
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
  if (copy) expect(copy.stored).toBe(LOGS)
})
