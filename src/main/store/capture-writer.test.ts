/**
 * One suite of capture's write path (CaptureWriter) run against both backends: SQLite's
 * EventStore on a store file, and PostgresCaptureWriter on a fresh database of the run's
 * throwaway PostgreSQL (skipped, with the reason printed at the start of the run, where it
 * cannot start). What was written is read back with plain SQL in each backend.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Client } from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { asSuperuser, createTestDatabase, postgresSkipReason } from '../../../test/helpers/postgres-test-database'
import type { CaptureWriter, CaptureWriterOptions, EventsCommitted } from './capture-writer'
import type { NormalizedEvent } from './captured-event'
import type { ChainLog } from './chain-store'
import { CHAIN_WRITE } from './chain-writes'
import { openDatabase } from './database'
import { EventStore } from './event-store'
import { PostgresCaptureWriter, type PostgresCaptureWriterOptions } from './postgres/capture-writer'
import { ChangeFeed } from './postgres/change-feed'
import { connectPostgres, openPostgres } from './postgres/database'
import { encodeRawLog } from './raw-log'

type Row = Record<string, unknown>

interface Opened {
  writer: CaptureWriter
  committed: EventsCommitted[]
  errors: Error[]
  backlog: [boolean, number][]
  /** Rows of a query written in SQL both databases run. */
  rows(sql: string): Promise<Row[]>
  exec(sql: string): Promise<void>
  /** Makes every insert into events fail as a full disk would, until the returned function heals it. */
  breakInserts(): Promise<() => Promise<void>>
}

interface Backend {
  name: string
  skipReason: string | undefined
  open(options?: PostgresCaptureWriterOptions): Promise<Opened>
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Callbacks recorded, and a long flush interval: batches go when full or when settle() asks. */
function recorder(options: CaptureWriterOptions) {
  const committed: EventsCommitted[] = []
  const errors: Error[] = []
  const backlog: [boolean, number][] = []
  const writerOptions: CaptureWriterOptions = {
    flushIntervalMs: 10_000,
    ...options,
    onCommitted: (batches) => committed.push(...batches),
    onError: (error) => errors.push(error),
    onBacklog: (full, held) => backlog.push([full, held]),
  }
  return { committed, errors, backlog, writerOptions }
}

const sqlite: Backend = {
  name: 'SQLite (EventStore)',
  skipReason: undefined,
  async open(options = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-capture-'))
    const db = openDatabase(path.join(dir, 'tidewatch.db'))
    const { writerOptions, ...recorded } = recorder(options)
    const writer = new EventStore(db, writerOptions)
    cleanups.push(() => {
      writer.close()
      db.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })
    return {
      writer,
      ...recorded,
      rows: (sql) => Promise.resolve(db.prepare(sql).all() as Row[]),
      exec: (sql) => Promise.resolve(void db.exec(sql)),
      async breakInserts() {
        db.exec(`CREATE TABLE fail_inserts (on_purpose INTEGER);
          INSERT INTO fail_inserts VALUES (1);
          CREATE TRIGGER events_fail BEFORE INSERT ON events WHEN (SELECT COUNT(*) FROM fail_inserts) > 0
          BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`)
        return () => Promise.resolve(void db.exec('DELETE FROM fail_inserts'))
      },
    }
  },
}

async function openPostgresWriter(options: PostgresCaptureWriterOptions = {}): Promise<Opened & { url: string; database: string }> {
  const database = await createTestDatabase()
  const pool = await openPostgres(database.url)
  const { writerOptions, ...recorded } = recorder(options)
  const writer = new PostgresCaptureWriter(pool, { ...writerOptions, ...(options.lockTimeoutMs ? { lockTimeoutMs: options.lockTimeoutMs } : {}) })
  cleanups.push(async () => {
    await writer.close()
    await pool.end()
    await database.drop()
  })
  return {
    url: database.url,
    database: database.name,
    writer,
    ...recorded,
    rows: async (sql) => (await pool.query<Row>(sql)).rows,
    exec: async (sql) => void (await pool.query(sql)),
    async breakInserts() {
      await pool.query(`CREATE TABLE fail_inserts (on_purpose INTEGER);
          INSERT INTO fail_inserts VALUES (1);
          CREATE FUNCTION fail_events() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF EXISTS (SELECT 1 FROM fail_inserts) THEN RAISE EXCEPTION 'database or disk is full'; END IF; RETURN NEW; END $$;
          CREATE TRIGGER events_fail BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_events();`)
      return async () => void (await pool.query('DELETE FROM fail_inserts'))
    },
  }
}

const postgres: Backend = { name: 'PostgreSQL (PostgresCaptureWriter)', skipReason: postgresSkipReason, open: openPostgresWriter }

const hash = (n: number, fill = '0'): string => `0x${n.toString(16).padStart(64, fill)}`
const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'

const log = (n: number): NormalizedEvent => ({
  kind: 'log',
  blockNumber: n,
  blockHash: hash(n),
  transactionHash: hash(n + 1, 'a'),
  transactionIndex: 0,
  logIndex: 0,
  address: '0x00000000000000000000000000000000000000aa',
  topics: [TRANSFER],
  data: '0x',
  removed: false,
  payload: null,
})

const head = (n: number): NormalizedEvent => ({
  ...log(n),
  kind: 'head',
  transactionHash: null,
  transactionIndex: null,
  logIndex: null,
  address: null,
  topics: [],
  data: null,
  payload: { number: `0x${n.toString(16)}`, hash: hash(n) },
})

const chainLog = (n: number, logIndex = 0): ChainLog => ({
  blockHash: hash(n),
  blockNumber: n,
  logIndex,
  transactionHash: hash(n + 1, 'a'),
  transactionIndex: 2,
  address: '0x00000000000000000000000000000000000000bb',
  topics: [TRANSFER, hash(7)],
  data: '0x01',
  raw: {
    address: '0x00000000000000000000000000000000000000BB',
    topics: [TRANSFER, hash(7)],
    data: '0x01',
    blockNumber: `0x${n.toString(16)}`,
    blockHash: hash(n),
    blockTimestamp: '0x6753a1c0',
    transactionHash: hash(n + 1, 'a'),
    transactionIndex: '0x2',
    logIndex: `0x${logIndex.toString(16)}`,
    removed: false,
  },
})

const CONNECTION = (id: number) =>
  `INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (${id}, 'c${id}', 'user', 'x', 'ws://x', 0)`

const blocks = async (s: Opened): Promise<number[]> =>
  (await s.rows("SELECT block_number FROM events WHERE kind = 'log' ORDER BY id")).map((r) => r.block_number as number)

for (const backend of [sqlite, postgres]) {
  describe.skipIf(backend.skipReason)(`capture writer: ${backend.name}`, () => {
    it('commits rows in order and reports the new rows per connection and stream', async () => {
      const s = await backend.open()
      s.writer.enqueue(1, 10, log(1))
      s.writer.enqueue(1, 11, log(2))
      s.writer.enqueue(2, 20, log(3))
      expect(s.writer.pendingCount).toBe(3)
      await s.writer.settle()
      expect(s.writer.pendingCount).toBe(0)
      expect(await blocks(s)).toEqual([1, 2, 3])
      const ids = (await s.rows('SELECT id FROM events ORDER BY id')).map((r) => r.id as number)
      expect(s.committed).toEqual([
        {
          connectionId: 1,
          lastId: ids[1],
          count: 2,
          perStream: new Map([
            [10, 1],
            [11, 1],
          ]),
        },
        { connectionId: 2, lastId: ids[2], count: 1, perStream: new Map([[20, 1]]) },
      ])
      expect(s.errors).toEqual([])
    })

    it('a full batch goes at once, the next queues behind it, and order holds across batches', async () => {
      const s = await backend.open({ maxBatch: 3 })
      for (let n = 1; n <= 7; n++) s.writer.enqueue(1, 1, log(n))
      // 1-3 went as a batch; 4-7 wait for its answer (one batch in flight).
      expect(s.writer.pendingCount).toBe(7)
      await s.writer.settle()
      expect(await blocks(s)).toEqual([1, 2, 3, 4, 5, 6, 7])
      expect(s.committed.reduce((sum, c) => sum + c.count, 0)).toBe(7)
      expect(s.errors).toEqual([])
    })

    it('keeps one copy of a log or head delivered again, in the same batch or a later one', async () => {
      const s = await backend.open()
      s.writer.enqueue(1, 1, log(1))
      s.writer.enqueue(1, 1, log(1))
      s.writer.enqueue(1, 2, log(1))
      s.writer.enqueue(1, 1, head(5))
      s.writer.enqueue(1, 1, head(5))
      await s.writer.settle()
      s.writer.enqueue(1, 1, log(1))
      s.writer.enqueue(1, 1, head(5))
      s.writer.enqueue(1, 1, log(2))
      await s.writer.settle()
      const stored = await s.rows('SELECT stream_id, kind, block_number FROM events ORDER BY id')
      expect(stored.map((r) => [r.stream_id, r.kind, r.block_number])).toEqual([
        [1, 'log', 1],
        [2, 'log', 1],
        [1, 'head', 5],
        [1, 'log', 2],
      ])
      expect(s.committed.map((c) => c.count)).toEqual([3, 1])
      expect(s.errors).toEqual([])
    })

    it("stores a watch's log once, in chain_logs, with events rows pointing at it", async () => {
      const s = await backend.open()
      await s.exec(CONNECTION(1))
      const history = chainLog(3, 4)
      const live = chainLog(4)
      // A history log (no tracker row) for two streams: capture writes chain_logs once.
      s.writer.enqueueLog(1, 1, history, false, 1_000)
      s.writer.enqueueLog(1, 2, history, false, 1_001)
      // A live log the tracker stored: only the pointing row.
      s.writer.enqueueLog(1, 1, live, true, 1_002)
      await s.writer.settle()
      const logs = await s.rows(
        'SELECT connection_id, block_hash, block_number, log_index, tx_hash, tx_index, address, topics, data, canonical, raw_json FROM chain_logs',
      )
      expect(logs.map((r) => ({ ...r, canonical: Number(r.canonical) }))).toEqual([
        {
          connection_id: 1,
          block_hash: history.blockHash,
          block_number: 3,
          log_index: 4,
          tx_hash: history.transactionHash,
          tx_index: 2,
          address: history.address,
          topics: history.topics.join(','),
          data: '0x01',
          canonical: 1,
          raw_json: encodeRawLog(history, history.raw),
        },
      ])
      const events = await s.rows(
        'SELECT stream_id, kind, block_number, block_hash, log_index, tx_hash, tx_index, address, topics, data, payload, received_at FROM events ORDER BY id',
      )
      const pointing = (streamId: number, l: ChainLog, receivedAt: number) => ({
        stream_id: streamId,
        kind: 'log',
        block_number: l.blockNumber,
        block_hash: l.blockHash,
        log_index: l.logIndex,
        tx_hash: null,
        tx_index: null,
        address: null,
        topics: null,
        data: null,
        payload: null,
        received_at: receivedAt,
      })
      expect(events).toEqual([pointing(1, history, 1_000), pointing(2, history, 1_001), pointing(1, live, 1_002)])
      expect(s.errors).toEqual([])
    })

    it('keeps the raw object of a notification log as the store encodes it, and other payloads as JSON', async () => {
      const s = await backend.open()
      const raw = chainLog(9).raw
      s.writer.enqueue(1, 1, { ...log(9), payload: raw })
      s.writer.enqueue(1, 2, head(9))
      await s.writer.settle()
      const payloads = (await s.rows('SELECT payload FROM events ORDER BY id')).map((r) => r.payload)
      expect(payloads).toEqual([encodeRawLog(log(9), raw), JSON.stringify(head(9).payload)])
      // Text with backslashes, quotes, tabs and newlines (escaped in JSON, and again in PostgreSQL's COPY text) comes back as it went.
      const odd = { input: 'a\tb\nc\\d "e"', note: 'tab\there' }
      s.writer.enqueue(1, 3, { ...head(10), kind: 'pending_transaction', blockHash: null, payload: odd })
      await s.writer.settle()
      const [stored] = await s.rows("SELECT payload FROM events WHERE kind = 'pending_transaction'")
      expect(JSON.parse(stored!.payload as string)).toEqual(odd)
      expect(s.errors).toEqual([])
    })

    it('marks rows taken back by the chain removed: one stream by hash and index, or every row of orphaned blocks', async () => {
      const s = await backend.open()
      s.writer.enqueue(1, 1, log(1))
      s.writer.enqueue(1, 1, log(2))
      s.writer.enqueue(2, 3, log(2))
      s.writer.enqueue(1, 1, head(3))
      s.writer.enqueue(1, 2, log(4))
      // In the same batch as the rows: applied after them.
      s.writer.enqueueRemoved(1, hash(1), 0)
      s.writer.enqueueRemoved(1, hash(3), null)
      s.writer.enqueueOrphaned(1, [hash(2)])
      await s.writer.settle()
      const removed = async () =>
        (await s.rows('SELECT connection_id, stream_id, block_number, removed FROM events ORDER BY id')).map((r) => [
          r.connection_id,
          r.stream_id,
          r.block_number,
          Number(r.removed),
        ])
      expect(await removed()).toEqual([
        [1, 1, 1, 1],
        [1, 1, 2, 1],
        [2, 3, 2, 0],
        [1, 1, 3, 1],
        [1, 2, 4, 0],
      ])
      // In a later batch, and another stream's copy of the block is untouched by a stream's retraction.
      s.writer.enqueueRemoved(2, hash(4), 0)
      await s.writer.settle()
      expect((await removed()).at(-1)).toEqual([1, 2, 4, 1])
      expect(s.errors).toEqual([])
    })

    it("saves a watch's cursor with the rows before it, the last position winning", async () => {
      const s = await backend.open()
      await s.exec(CONNECTION(1))
      await s.exec("INSERT INTO subscriptions (id, connection_id, type, params_json, stream_key, created_at) VALUES (7, 1, 'logs', '{}', 'k7', 0)")
      await s.exec("INSERT INTO subscriptions (id, connection_id, type, params_json, stream_key, created_at) VALUES (8, 1, 'logs', '{}', 'k8', 0)")
      s.writer.enqueue(1, 1, log(5))
      s.writer.enqueueCursor(7, 5, hash(5))
      s.writer.enqueueCursor(8, 4, hash(4))
      s.writer.enqueueCursor(7, 6, hash(6))
      await s.writer.settle()
      expect(await s.rows('SELECT id, cursor_number, cursor_hash FROM subscriptions ORDER BY id')).toEqual([
        { id: 7, cursor_number: 6, cursor_hash: hash(6) },
        { id: 8, cursor_number: 4, cursor_hash: hash(4) },
      ])
      expect(await blocks(s)).toEqual([5])
      expect(s.errors).toEqual([])
    })

    it("enqueueCommitted() commits the tracker's rows in order with captured rows and resolves once they are committed", async () => {
      const s = await backend.open()
      await s.exec(CONNECTION(1))
      const l = chainLog(10)
      const blockOp = (n: number) => [CHAIN_WRITE.block, 1, n, hash(n), hash(n - 1), 1_700_000_000 + n, JSON.stringify({ number: n })]
      const logOp = (c: ChainLog) => [
        CHAIN_WRITE.log,
        1,
        c.blockHash,
        c.blockNumber,
        c.logIndex,
        c.transactionHash,
        c.transactionIndex,
        c.address,
        c.topics.join(','),
        c.data,
        encodeRawLog(c, c.raw),
      ]
      s.writer.enqueue(1, 1, log(9))
      // As ChainStore.appendBlocks: blocks, their logs (one twice, as a faulty upstream may send it), the cursor.
      await s.writer.enqueueCommitted([...blockOp(10), ...logOp(l), ...logOp(l), CHAIN_WRITE.cursor, 1, 10, 10, hash(10)], 4)
      // Resolved means committed: the captured row queued first is there too, without settle().
      expect(await blocks(s)).toEqual([9])
      expect(await s.rows('SELECT number, hash, canonical FROM chain_blocks')).toMatchObject([{ number: 10, hash: hash(10) }])
      expect(await s.rows('SELECT block_number, log_index, raw_json FROM chain_logs')).toEqual([
        { block_number: 10, log_index: 0, raw_json: encodeRawLog(l, l.raw) },
      ])
      const cursor = async () => (await s.rows('SELECT first_block, number, hash, finalized FROM chain_cursor WHERE connection_id = 1'))[0]
      expect(await cursor()).toEqual({ first_block: 10, number: 10, hash: hash(10), finalized: -1 })

      // A reorg took the block back; the tracker stores it again: canonical again. The cursor keeps its first block.
      await s.exec('UPDATE chain_blocks SET canonical = FALSE')
      await s.exec('UPDATE chain_logs SET canonical = FALSE')
      await s.writer.enqueueCommitted([...blockOp(10), ...logOp(l), ...blockOp(11), CHAIN_WRITE.cursor, 1, 11, 11, hash(11)], 4)
      expect((await s.rows('SELECT number, canonical FROM chain_blocks ORDER BY number')).map((r) => [r.number, Number(r.canonical)])).toEqual([
        [10, 1],
        [11, 1],
      ])
      expect((await s.rows('SELECT canonical FROM chain_logs')).map((r) => Number(r.canonical))).toEqual([1])
      expect(await cursor()).toEqual({ first_block: 10, number: 11, hash: hash(11), finalized: -1 })

      // Finality never moves back.
      await s.writer.enqueueCommitted([CHAIN_WRITE.finalized, 8, 1, 8], 1)
      await s.writer.enqueueCommitted([CHAIN_WRITE.finalized, 6, 1, 6], 1)
      expect((await cursor())!.finalized).toBe(8)
      expect(s.errors).toEqual([])
    })

    it('whenIdle() runs a write once the batch in flight has been answered, or at once when none is', async () => {
      const s = await backend.open({ maxBatch: 2 })
      const ran: number[] = []
      s.writer.enqueue(1, 1, log(1))
      s.writer.enqueue(1, 1, log(2)) // a full batch: in flight
      s.writer.whenIdle(() => ran.push(s.writer.pendingCount))
      expect(ran).toEqual([])
      await s.writer.settle()
      expect(ran).toEqual([0])
      expect(await blocks(s)).toEqual([1, 2])
      s.writer.whenIdle(() => ran.push(-1))
      expect(ran).toEqual([0, -1])
      expect(s.errors).toEqual([])
    })

    it('a failed commit loses nothing: rows and waiters stay queued in order and commit once the cause is gone', async () => {
      const s = await backend.open()
      await s.exec(CONNECTION(1))
      s.writer.enqueue(1, 1, log(1))
      await s.writer.settle()
      const heal = await s.breakInserts()
      s.writer.enqueue(1, 1, log(2))
      s.writer.enqueue(1, 1, log(3))
      await s.writer.settle()
      expect(s.errors.map((e) => e.message)).toEqual([expect.stringContaining('database or disk is full')])
      expect(s.writer.failing).toBe(true)
      expect(s.writer.pendingCount).toBe(2)
      // While failing, settle() answers at once: the retry timer, not the reader, tries again.
      await s.writer.settle()
      expect(s.errors).toHaveLength(1)
      s.writer.enqueue(1, 1, log(4))
      let chainCommitted = false
      const chain = s.writer.enqueueCommitted([CHAIN_WRITE.cursor, 1, 0, 7, hash(7)], 1).then(() => (chainCommitted = true))
      expect(await blocks(s)).toEqual([1])
      expect(chainCommitted).toBe(false)
      await heal()
      // The retry timer commits without anyone calling settle(); the tracker's row, queued last, resolves then.
      await chain
      expect(await blocks(s)).toEqual([1, 2, 3, 4])
      expect((await s.rows('SELECT number FROM chain_cursor'))[0]).toEqual({ number: 7 })
      expect(s.writer.failing).toBe(false)
      expect(s.writer.pendingCount).toBe(0)
      expect(s.committed.map((c) => c.count)).toEqual([1, 3])
    })

    it('writes held past the bound while commits fail stop capture, and capture resumes once they are stored', async () => {
      const s = await backend.open({ maxHeldWrites: 5 })
      const heal = await s.breakInserts()
      for (let n = 1; n <= 3; n++) s.writer.enqueue(1, 1, log(n))
      await s.writer.settle()
      expect(s.writer.failing).toBe(true)
      s.writer.enqueue(1, 1, log(4))
      expect(s.backlog).toEqual([])
      s.writer.enqueue(1, 1, log(5))
      expect(s.backlog).toEqual([[true, 5]])
      await heal()
      await expect
        .poll(() => s.backlog, { timeout: 10_000 })
        .toEqual([
          [true, 5],
          [false, 0],
        ])
      expect(await blocks(s)).toEqual([1, 2, 3, 4, 5])
    })

    it('close() rejects waiters whose rows the store refused, rather than leaving them waiting', async () => {
      const s = await backend.open()
      await s.breakInserts()
      s.writer.enqueue(1, 1, log(1))
      const waiting = s.writer.enqueueCommitted([CHAIN_WRITE.finalized, 5, 1, 5], 1)
      await s.writer.close()
      await expect(waiting).rejects.toThrow(/closed before these rows could be committed/)
      await expect(s.writer.enqueueCommitted([CHAIN_WRITE.finalized, 6, 1, 6], 1)).rejects.toThrow(/closed/)
    })

    it('close() commits what is queued first', async () => {
      const s = await backend.open({ maxBatch: 2 })
      for (let n = 1; n <= 5; n++) s.writer.enqueue(1, 1, log(n))
      await s.writer.close()
      expect(await blocks(s)).toEqual([1, 2, 3, 4, 5])
      expect(s.errors).toEqual([])
    })
  })
}

describe.skipIf(postgresSkipReason)('capture writer: PostgreSQL only', () => {
  it('stores a payload holding U+0000, which jsonb refuses, as U+FFFD instead of failing every retry', async () => {
    const s = await openPostgresWriter()
    const pending = (n: number, from: string): NormalizedEvent => ({
      ...head(n),
      kind: 'pending_transaction',
      blockHash: null,
      payload: { hash: hash(n), from },
    })
    s.writer.enqueue(1, 1, pending(1, 'a\u0000b\u0000'))
    // The text backslash-u0000 (an escaped backslash, not the character) stays as it is.
    s.writer.enqueue(1, 1, pending(2, '\\u0000'))
    s.writer.enqueue(1, 1, log(3))
    await s.writer.settle()
    expect(s.writer.failing).toBe(false)
    expect(s.errors).toEqual([])
    const rows = await s.rows('SELECT block_number, payload FROM events ORDER BY id')
    expect(rows.map((r) => r.block_number)).toEqual([1, 2, 3])
    expect(JSON.parse(rows[0]!.payload as string)).toEqual({ hash: hash(1), from: 'a\ufffdb\ufffd' })
    expect(JSON.parse(rows[1]!.payload as string)).toEqual({ hash: hash(2), from: '\\u0000' })
  })

  it('announces what each batch added on the change feed as it commits, and nothing for a batch rolled back', async () => {
    const s = await openPostgresWriter()
    const viewerPool = await connectPostgres(s.url)
    const feed = new ChangeFeed(viewerPool, { reconnectDelayMs: 50 })
    cleanups.push(async () => {
      await feed.close()
      await viewerPool.end()
    })
    const heard: EventsCommitted[] = []
    feed.on('events', (events) => heard.push(events))
    await feed.start()
    s.writer.enqueue(1, 1, log(1))
    s.writer.enqueue(1, 2, log(2))
    await s.writer.settle()
    await expect.poll(() => heard.length).toBe(1)
    expect(heard[0]).toEqual(s.committed[0])
    expect(heard[0]).toMatchObject({
      connectionId: 1,
      count: 2,
      perStream: new Map([
        [1, 1],
        [2, 1],
      ]),
    })
    // A batch the server refuses is announced only when its retry commits.
    const heal = await s.breakInserts()
    s.writer.enqueue(1, 1, log(3))
    await s.writer.settle()
    expect(s.writer.failing).toBe(true)
    await heal()
    await expect.poll(() => s.writer.pendingCount, { timeout: 10_000 }).toBe(0)
    await expect.poll(() => heard.length).toBe(2)
    expect(heard.map((events) => events.count)).toEqual([2, 1])
    expect(heard[1]).toEqual(s.committed[1])
  })

  /** A session of its own on the writer's database holding an exclusive lock on events, until released. */
  async function lockEvents(url: string): Promise<() => Promise<void>> {
    const client = new Client({ connectionString: url })
    await client.connect()
    await client.query('BEGIN')
    await client.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE')
    return async () => {
      await client.query('COMMIT')
      await client.end()
    }
  }

  it("a batch waiting on another session's lock fails after lock_timeout, is retried, and commits once the lock is gone", async () => {
    const s = await openPostgresWriter({ lockTimeoutMs: 100 })
    const unlock = await lockEvents(s.url)
    s.writer.enqueue(1, 1, log(1))
    await s.writer.settle()
    expect(s.errors.map((e) => e.message)).toEqual([expect.stringMatching(/lock timeout/)])
    expect(s.writer.pendingCount).toBe(1)
    await unlock()
    await expect.poll(() => s.writer.pendingCount, { timeout: 10_000 }).toBe(0)
    expect(await blocks(s)).toEqual([1])
    expect(s.writer.failing).toBe(false)
  })

  it('capture faster than the server commits is bounded by the held writes, failing or not', async () => {
    // The server is slow (a lock holds the batch in flight), not failing: enqueue() cannot wait for it, so the bound tells the owner.
    const s = await openPostgresWriter({ maxBatch: 2, maxHeldWrites: 5 })
    const unlock = await lockEvents(s.url)
    for (let n = 1; n <= 8; n++) s.writer.enqueue(1, 1, log(n))
    expect(s.backlog).toEqual([[true, 5]])
    expect(s.errors).toEqual([])
    await unlock()
    await expect
      .poll(() => s.backlog, { timeout: 10_000 })
      .toEqual([
        [true, 5],
        [false, 0],
      ])
    expect(await blocks(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(s.errors).toEqual([])
  })

  it('reports the ids rows got when the sequence is not one range (another session drawing from it)', async () => {
    const s = await openPostgresWriter()
    // Every third value: as if two other sessions took the ones between.
    await s.exec('ALTER TABLE events ALTER COLUMN id SET INCREMENT BY 3')
    for (let n = 1; n <= 4; n++) s.writer.enqueue(n <= 2 ? 1 : 2, n, log(n))
    await s.writer.settle()
    const ids = (await s.rows('SELECT id FROM events ORDER BY id')).map((r) => r.id as number)
    expect(ids.map((id) => id - ids[0]!)).toEqual([0, 3, 6, 9])
    expect(s.committed.map((c) => [c.connectionId, c.lastId, c.count])).toEqual([
      [1, ids[1], 2],
      [2, ids[3], 2],
    ])
    expect(await blocks(s)).toEqual([1, 2, 3, 4])
    expect(s.errors).toEqual([])
  })

  it('a connection the server ended is replaced, and its batch retried on the new one', async () => {
    const s = await openPostgresWriter()
    s.writer.enqueue(1, 1, log(1))
    await s.writer.settle()
    // An administrator (or a server restart) ends every other session on the database, the writer's among them.
    await asSuperuser((client) =>
      client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [s.database]),
    )
    s.writer.enqueue(1, 1, log(2))
    // Whether the writer hears of it before its next batch (and replaces the connection first) or from that batch failing, the rows arrive.
    await s.writer.enqueueCommitted([CHAIN_WRITE.finalized, 1, 1, 1], 1)
    expect(await blocks(s)).toEqual([1, 2])
  })
})
