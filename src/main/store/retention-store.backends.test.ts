/**
 * PostgresRetentionStore prunes what SQLite's RetentionStore prunes: the same heads (spread
 * over weeks) and captured events (logs pointing at chain_logs, own rows, two connections)
 * written into a SQLite file and a fresh PostgreSQL database, pruned batch by batch in both,
 * each batch deleting as many rows, and the same rows left, chain_logs included. Then the
 * space per connection (same rows, PostgreSQL's sizes shared out) and compact (a VACUUM).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED_START, seedCapturedEvents } from '../../../test/helpers/captured-events-seed'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../../../test/helpers/postgres-test-database'
import { openDatabase, type Db } from './database'
import { EventStore } from './event-store'
import { HeadStore, type NewHead } from './head-store'
import { PostgresCaptureWriter } from './postgres/capture-writer'
import { openPostgres, type PostgresPool } from './postgres/database'
import { PostgresEventPages } from './postgres/event-pages'
import { PostgresHeadStore } from './postgres/head-store'
import { PostgresRetentionStore } from './postgres/retention-store'
import { RetentionStore } from './retention-store'

const DAY = 86_400_000
/** Heads are received over the 40 days before this. */
const NOW = 1_800_000_000_000

const SETUP = `INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at)
    VALUES (1, 'a', 'user', 'x', 'ws://a', 0), (2, 'b', 'user', 'x', 'ws://b', 0), (3, 'c', 'user', 'x', 'ws://c', 0);
  INSERT INTO chain_cursor (connection_id, first_block, number, hash, finalized) VALUES (1, 1, 1800, '0x1', 500), (2, 1, 1800, '0x2', 500)`

/** 240 heads a connection, one every four hours up to NOW. */
function heads(): NewHead[] {
  const out: NewHead[] = []
  for (let n = 0; n < 240; n++)
    for (const connectionId of [1, 2])
      out.push({
        connectionId,
        number: n,
        hash: `0x${connectionId}${n.toString(16).padStart(63, '0')}`,
        parentHash: '0x0',
        timestamp: n,
        gasUsed: '1',
        gasLimit: '2',
        baseFeePerGas: null,
        txCount: null,
        receivedAt: NOW - 40 * DAY + n * (DAY / 6),
      })
  return out
}

let dir: string
let db: Db
let events: EventStore
let sqlite: RetentionStore
let sqliteHeads: HeadStore
let database: TestDatabase
let pool: PostgresPool
let postgres: PostgresRetentionStore
let postgresHeads: PostgresHeadStore
let pages: PostgresEventPages

const chainLogs = async (): Promise<{ sqlite: unknown[]; postgres: unknown[] }> => {
  const sql = 'SELECT connection_id, block_hash, log_index FROM chain_logs ORDER BY connection_id, block_hash, log_index'
  return { sqlite: db.prepare(sql).all(), postgres: (await pool.query(sql)).rows }
}

describe.skipIf(postgresSkipReason)('PostgresRetentionStore prunes what RetentionStore prunes', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-retention-backends-'))
    db = openDatabase(path.join(dir, 'tidewatch.db'))
    db.exec(SETUP)
    events = new EventStore(db, { flushIntervalMs: 10_000 })
    seedCapturedEvents(events)
    events.flush()
    sqliteHeads = new HeadStore(db)
    for (const head of heads()) sqliteHeads.enqueue(head)
    sqliteHeads.flush()
    sqlite = new RetentionStore(db, () => {
      events.flush()
      return events.pendingCount === 0
    })

    database = await createTestDatabase()
    pool = await openPostgres(database.url)
    await pool.query(SETUP)
    const writer = new PostgresCaptureWriter(pool, { flushIntervalMs: 10_000 })
    seedCapturedEvents(writer)
    await writer.settle()
    expect(writer.pendingCount).toBe(0)
    await writer.close()
    postgresHeads = await PostgresHeadStore.open(pool)
    for (const head of heads()) postgresHeads.enqueue(head)
    await postgresHeads.settled()
    postgres = new PostgresRetentionStore(pool)
    pages = new PostgresEventPages(pool)
  }, 120_000)

  afterAll(async () => {
    events?.close()
    db?.close()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
    await postgresHeads?.close()
    await pool?.end()
    await database?.drop()
  })

  it('counts each connection’s rows as SQLite does, and shares out each table’s size by them', async () => {
    const expected = sqlite.storageUse([1, 2, 3])
    const got = await postgres.storageUse([1, 2, 3])
    const rows = (uses: typeof got) =>
      uses.map((use) => ({ connectionId: use.connectionId, tables: use.tables.map(({ table, rows: n }) => ({ table, rows: n })) }))
    expect(rows(got)).toStrictEqual(rows(expected))
    expect(got[0]!.tables.find((t) => t.table === 'events')!.rows).toBeGreaterThan(5_000)
    for (const use of got) {
      expect(use.bytes).toBe(use.tables.reduce((sum, t) => sum + t.bytes, 0))
      for (const table of use.tables) expect(table.bytes > 0).toBe(table.rows > 0)
    }
    // Every connection listed: the shares add up to each table's whole size.
    for (const table of ['heads', 'events', 'chain_logs']) {
      const size = (await pool.query<{ bytes: number }>('SELECT pg_total_relation_size($1::regclass) AS bytes', [table])).rows[0]!.bytes
      const shared = got.reduce((sum, use) => sum + use.tables.find((t) => t.table === table)!.bytes, 0)
      expect(Math.abs(shared - size)).toBeLessThanOrEqual(2)
    }
  })

  it('prunes heads batch by batch as SQLite does, oldest first, one connection at a time', async () => {
    const batches: [number, number][] = []
    for (;;) {
      const gone = [sqlite.pruneHeads(1, 10, 7, NOW), await postgres.pruneHeads(1, 10, 7, NOW)] as [number, number]
      batches.push(gone)
      if (gone[0] === 0 && gone[1] === 0) break
    }
    expect(batches.map(([a]) => a)).toStrictEqual(batches.map(([, b]) => b))
    // 30 of the 40 days: 180 heads of connection 1, 7 a batch.
    expect(batches.reduce((sum, [a]) => sum + a, 0)).toBe(180)
    expect(await postgres.pruneHeads(2, 39, 1_000, NOW)).toBe(sqlite.pruneHeads(2, 39, 1_000, NOW))
    expect(await postgresHeads.list({ limit: 1_000 })).toStrictEqual(sqliteHeads.list({ limit: 1_000 }))
    expect((await postgresHeads.list({ connectionId: 2, limit: 1_000 })).length).toBe(234)
  })

  it('prunes events batch by batch as SQLite does, and the logs only they pointed at once final', async () => {
    // Rows arrive a millisecond apart from SEED_START: the first 3,000 (blocks up to about 770) are older than 30 days at `now`.
    const now = SEED_START + 3_000 + 30 * DAY
    const logsBefore = await chainLogs()
    expect(await new PostgresRetentionStore(pool, () => Promise.resolve(false)).pruneEvents(1, 30, 500, now)).toBe(0)
    for (const connectionId of [1, 2]) {
      const batches: [number, number][] = []
      for (;;) {
        const gone = [sqlite.pruneEvents(connectionId, 30, 500, now), await postgres.pruneEvents(connectionId, 30, 500, now)] as [number, number]
        batches.push(gone)
        if (gone[0] === 0 && gone[1] === 0) break
      }
      expect(batches.map(([a]) => a)).toStrictEqual(batches.map(([, b]) => b))
      expect(batches[0]![0]).toBeGreaterThan(0)
    }
    const left = events.list({ limit: 100_000 })
    expect(await pages.list({ limit: 100_000 })).toStrictEqual(left)
    expect(Math.min(...left.map((e) => e.receivedAt))).toBe(SEED_START + 3_000)
    const logsAfter = await chainLogs()
    expect(logsAfter.postgres).toStrictEqual(logsAfter.sqlite)
    // Final logs (block 500 or below) went with their last pointing row; those above it stay, pointed at or not.
    expect(logsAfter.sqlite.length).toBeLessThan(logsBefore.sqlite.length)
    const blocks =
      'SELECT min(block_number) AS low, count(*) AS n FROM chain_logs l WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.block_hash = l.block_hash AND e.log_index = l.log_index)'
    const unpointed = (await pool.query<{ low: number; n: number }>(blocks)).rows[0]!
    expect(unpointed.n).toBeGreaterThan(0)
    expect(unpointed.low).toBeGreaterThan(500)
  })

  it('compacts with a VACUUM, reporting the database’s size before and after', async () => {
    const vacuums = async (): Promise<number> =>
      (await pool.query<{ n: number }>("SELECT vacuum_count AS n FROM pg_stat_user_tables WHERE relname = 'events'")).rows[0]!.n
    const before = await vacuums()
    const { bytesBefore, bytesAfter } = await postgres.compact()
    expect(bytesBefore).toBeGreaterThan(0)
    // Not necessarily smaller: a plain VACUUM keeps the space for new rows, and writes each table's free space and visibility maps.
    expect(bytesAfter).toBeGreaterThan(0)
    expect(await vacuums()).toBe(before + 1)
  })
})
