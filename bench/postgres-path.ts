/**
 * bench:ingest's PostgreSQL row (issue 13): the notification path into the PostgreSQL store
 * (PostgresCaptureWriter), and its baseline in the same run, a raw COPY of the same rows into
 * the same schema. Both run against a throwaway server the bench starts itself
 * (test/helpers/throwaway-postgres.ts: initdb into a temp dir, no fsync), each into a fresh
 * database migrated by the store's own migrations (openPostgres).
 *
 * The baseline uses pg-copy-streams (COPY ... FROM STDIN, the standard way to COPY with
 * node-postgres): COPY is PostgreSQL's fastest way in, so it is the ceiling the goal
 * is measured against. Its rows are the notification path's rows (one events row a log,
 * holding the log, the raw object encoded as the store encodes it), formatted as COPY text
 * before timing, sent in transactions of the writer's batch size.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Client, escapeIdentifier } from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { DEFAULT_EVENT_BATCH } from '../src/main/store/capture-writer'
import { PostgresCaptureWriter } from '../src/main/store/postgres/capture-writer'
import { openPostgres, type PostgresPool } from '../src/main/store/postgres/database'
import { encodeRawLog } from '../src/main/store/raw-log'
import { SubscriptionRunner } from '../src/main/subscriptions/subscription-runner'
import { ConnectionPool } from '../src/main/upstream/connection-pool'
import { PostgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from '../test/helpers/throwaway-postgres'
import { logSpec, phaseMeters, storedRowMismatch, wireObject, withTimeout, type RawResult, type StoredCheck } from './engine-path'
import type { FloodServer } from './flood-upstream'
import type { MainnetLogs } from './mainnet-logs.mjs'

const int = (n: number): string => Math.round(n).toLocaleString('en-US')

/** The bench's own throwaway server, or why there is none. */
export async function benchPostgres(): Promise<{ server: ThrowawayPostgres } | { skipReason: string }> {
  try {
    return { server: await startThrowawayPostgres() }
  } catch (error) {
    if (error instanceof PostgresUnavailable) return { skipReason: error.message }
    throw error
  }
}

/** A new database on the server, migrated to the store's schema; its pool. */
async function freshStore(server: ThrowawayPostgres, name: string): Promise<PostgresPool> {
  const admin = new Client({ connectionString: server.url })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)}`)
    await admin.query(`CREATE DATABASE ${escapeIdentifier(name)}`)
  } finally {
    await admin.end()
  }
  const url = new URL(server.url)
  url.pathname = `/${name}`
  return openPostgres(url.href)
}

export interface PostgresPathOptions {
  logs: number
  expected: () => MainnetLogs
  timeoutMs: number
  profile: boolean
  verbose: boolean
}

export interface PostgresPathResult extends StoredCheck {
  rate: number
  seconds: number
  rssStartMb: number
  rssPeakMb: number
  cpuPercent: number
  serverCpuPercent: number
  gcMs: number
  times: Map<string, number>
  errors: string[]
  /** Share of the phase a batch was with the server (from its first statement to its COMMIT's answer). */
  inFlightPercent: number
}

/** eth_subscription notifications through the runner path into PostgresCaptureWriter, as bench:ingest's notification phase does into EventStore. */
export async function postgresNotificationPath(flood: FloodServer, server: ThrowawayPostgres, options: PostgresPathOptions): Promise<PostgresPathResult> {
  const LOGS = options.logs
  const store = await freshStore(server, 'tidewatch_bench_capture')
  try {
    await flood.planNotifications(LOGS)
    const floodStarted = flood.next('flood-start')
    const floodDone = flood.next('flood-done')
    const meters = await phaseMeters('postgres', [], options.profile)
    const errors: string[] = []
    let committed = 0
    let committedAt = 0
    let resolveAll: () => void = () => undefined
    const allCommitted = new Promise<void>((resolve) => (resolveAll = resolve))
    const inFlight = batchMeter()
    const writer = new PostgresCaptureWriter(store, {
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
      if (options.verbose) console.log(`  [postgres] ${message}`)
    }
    const pool = new ConnectionPool({ url: flood.url, log })
    const runner = new SubscriptionRunner({
      pool,
      spec: logSpec(),
      sink: (event) => writer.enqueue(1, 1, event),
      log,
    })
    let measured: Awaited<ReturnType<typeof meters.stop>>
    let startedAt: number
    let serverCpuMs = 0
    let batchMs = 0
    try {
      pool.start()
      runner.start()
      startedAt = (await withTimeout(floodStarted, options.timeoutMs, () => 'the notification flood did not start')).at
      await withTimeout(
        allCommitted,
        options.timeoutMs,
        () => `postgres: only ${int(committed)} of ${int(LOGS)} logs committed after ${options.timeoutMs} ms (${errors.at(-1) ?? 'no store error'})`,
      )
      measured = await meters.stop()
      batchMs = inFlight.stop()
      serverCpuMs = (await floodDone).cpuMs
    } finally {
      inFlight.stop()
      await runner.stop()
      await pool.stop()
      await writer.close()
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
      inFlightPercent: batchMs / 10 / seconds,
      ...(await verifyStoredPostgres(store, options.expected(), LOGS)),
    }
  } finally {
    await store.end()
  }
}

/**
 * Time a batch was with the server, from its first statement to the answer to its COMMIT (the writer's `run`, timed around
 * the real method): one batch is in flight at a time, so near 100 % the server is what capture waits for.
 */
function batchMeter(): { stop(): number } {
  const proto = PostgresCaptureWriter.prototype as unknown as { run: (ops: unknown) => Promise<unknown> }
  const original = proto.run
  let total = 0
  let stopped = false
  proto.run = async function (this: unknown, ops: unknown): Promise<unknown> {
    const started = performance.now()
    try {
      return await original.call(this, ops)
    } finally {
      total += performance.now() - started
    }
  }
  return {
    stop() {
      if (!stopped) proto.run = original
      stopped = true
      return total
    },
  }
}

/** Every stored log row must be the log sent at its position, as verifyStored checks SQLite's; read in pages by id. */
async function verifyStoredPostgres(store: PostgresPool, logs: MainnetLogs, count: number): Promise<StoredCheck> {
  const stored = (await store.query<{ n: number }>("SELECT COUNT(*)::bigint AS n FROM events WHERE kind = 'log'")).rows[0]!.n
  const first = (
    await store.query<{ connection_id: number; stream_id: number }>("SELECT connection_id, stream_id FROM events WHERE kind = 'log' ORDER BY id LIMIT 1")
  ).rows[0]
  let mismatches = 0
  let firstMismatch: string | null = null
  let seq = 0
  let afterId = 0
  for (;;) {
    const page = await store.query<unknown[]>({
      text: `SELECT e.block_number, e.block_hash, COALESCE(e.tx_hash, l.tx_hash), COALESCE(e.tx_index, l.tx_index), e.log_index, COALESCE(e.address, l.address),
          COALESCE(e.topics, l.topics), COALESCE(e.data, l.data), e.removed::int, COALESCE(e.payload, l.raw_json), e.id
        FROM events e LEFT JOIN chain_logs l ON e.address IS NULL AND l.connection_id = e.connection_id AND l.block_hash = e.block_hash AND l.log_index = e.log_index
        WHERE e.kind = 'log' AND e.id > $1 ORDER BY e.id LIMIT 20000`,
      values: [afterId],
      rowMode: 'array',
    })
    if (page.rows.length === 0) break
    for (const row of page.rows) {
      const mismatch = storedRowMismatch(row, seq, logs, count)
      if (mismatch) {
        mismatches += 1
        firstMismatch ??= mismatch
      }
      seq += 1
    }
    afterId = page.rows.at(-1)![10] as number
  }
  return { stored, mismatches, firstMismatch, connectionId: first?.connection_id ?? 1, streamId: first?.stream_id ?? 1 }
}

const COPY_COLUMNS =
  'connection_id, stream_id, kind, block_number, block_hash, tx_hash, tx_index, log_index, address, topics, data, removed, payload, received_at'

/** A value in COPY's text format: \N for NULL, backslash, tab, newline and carriage return escaped. */
function copyText(value: string | number | null): string {
  if (value === null) return '\\N'
  return String(value).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
}

/** The notification path's rows, COPY'd into events of a fresh database of the same schema, in transactions of the writer's batch size. */
export async function rawCopy(server: ThrowawayPostgres, connectionId: number, streamId: number, logs: MainnetLogs, count: number): Promise<RawResult> {
  const store = await freshStore(server, 'tidewatch_bench_copy')
  try {
    const batchSize = DEFAULT_EVENT_BATCH
    const receivedAt = Date.now()
    // Formatted before timing, as the SQLite baseline encodes its rows before timing.
    const chunks: string[] = []
    for (let from = 0; from < count; from += batchSize) {
      const lines: string[] = []
      for (let seq = from; seq < Math.min(count, from + batchSize); seq++) {
        const r = logs.row(seq)
        const raw = encodeRawLog({ ...r, topics: r.topics.split(',') }, wireObject(r))
        const values = [
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
          'f',
          raw,
          receivedAt,
        ]
        lines.push(values.map(copyText).join('\t'))
      }
      chunks.push(`${lines.join('\n')}\n`)
    }
    const sql = `COPY events (${COPY_COLUMNS}) FROM STDIN`
    const client = await store.connect()
    let seconds: number
    try {
      const started = performance.now()
      // Each COPY is a transaction of its own.
      for (const chunk of chunks) await pipeline(Readable.from([chunk]), client.query(copyFrom(sql)))
      seconds = (performance.now() - started) / 1000
    } finally {
      client.release()
    }
    const stored = (await store.query<{ n: number }>('SELECT COUNT(*)::bigint AS n FROM events')).rows[0]!.n
    return { rate: count / seconds, seconds, stored, sql: `\`${sql}\` (pg-copy-streams), COPY text formatted before timing`, batch: batchSize }
  } finally {
    await store.end()
  }
}
