/**
 * Live-log pages through indexes (a rare address, event or block range: its rows read through
 * them and sorted) hold exactly the rows a plain walk of every row finds: pages are checked
 * against the filter restated here over every stored row, for rows pointing at chain_logs,
 * rows with their own columns, payloads with from/to, removed rows, and beforeId/afterId paging.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ABSENT_TOPIC,
  BUSY,
  chainLog,
  other,
  RARE,
  RARE_TOPIC,
  seedCapturedEvents,
  seededFilters,
  TRANSFER,
  TWIN,
  TWIN_TOPIC,
} from '../../../test/helpers/captured-events-seed'
import { applyMigrations, openDatabase, type Db } from './database'
import { EventStore, type EventQuery } from './event-store'
import { migrations } from './migrations'

interface Stored {
  id: number
  connectionId: number
  streamId: number
  kind: string
  blockNumber: number | null
  blockHash: string | null
  txHash: string | null
  address: string | null
  topics: string | null
  data: string | null
  /** The row's own payload (the address filter reads it). */
  ownPayload: string | null
  /** The payload or the pointed-at log's raw text (the text filter reads it). */
  payload: string | null
}

/** Every stored row, newest first, with the log it points at resolved: what a walk of every row reads. */
function everyRow(db: Db): Stored[] {
  return db
    .prepare(
      `SELECT e.id, e.connection_id AS connectionId, e.stream_id AS streamId, e.kind, e.block_number AS blockNumber, e.block_hash AS blockHash,
        COALESCE(e.tx_hash, l.tx_hash) AS txHash, COALESCE(e.address, l.address) AS address, COALESCE(e.topics, l.topics) AS topics,
        COALESCE(e.data, l.data) AS data, e.payload AS ownPayload, COALESCE(e.payload, l.raw_json) AS payload
       FROM events e LEFT JOIN chain_logs l ON e.kind = 'log' AND e.address IS NULL AND l.connection_id = e.connection_id AND l.block_hash = e.block_hash AND l.log_index = e.log_index
       ORDER BY e.id DESC`,
    )
    .all() as Stored[]
}

/** The filter of a page restated on a stored row (EventStore.list's conditions). */
function matches(row: Stored, q: EventQuery): boolean {
  const field = (pick: (p: Record<string, unknown>) => unknown): string | null => {
    if (row.ownPayload === null || !row.ownPayload.startsWith('{')) return null
    const value = pick(JSON.parse(row.ownPayload) as Record<string, unknown>)
    return typeof value === 'string' ? value.toLowerCase() : null
  }
  const tx = (p: Record<string, unknown>) => p.transaction as Record<string, unknown> | undefined
  if (q.connectionId !== undefined && row.connectionId !== q.connectionId) return false
  if (q.streamIds !== undefined && !q.streamIds.includes(row.streamId)) return false
  if (q.kind !== undefined && row.kind !== q.kind) return false
  if (q.fromBlock !== undefined || q.toBlock !== undefined) {
    if (row.blockNumber === null || row.blockNumber < (q.fromBlock ?? 0) || row.blockNumber > (q.toBlock ?? Infinity)) return false
  }
  if (q.selectors !== undefined && (row.topics === null || !q.selectors.includes(row.topics.slice(0, 66)))) return false
  if (
    q.address !== undefined &&
    row.address !== q.address &&
    field((p) => p.from) !== q.address &&
    field((p) => tx(p)?.from) !== q.address &&
    field((p) => tx(p)?.to) !== q.address
  )
    return false
  if (q.text) {
    const text = q.text.toLowerCase()
    if (![row.txHash, row.blockHash, row.address, row.topics, row.data, row.payload].some((f) => f !== null && f.toLowerCase().includes(text))) return false
  }
  return true
}

let dir: string
let db: Db
let store: EventStore
let rows: Stored[]

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-pages-'))
  db = openDatabase(path.join(dir, 'tidewatch.db'))
  store = new EventStore(db, { flushIntervalMs: 10_000 })
  db.prepare(
    "INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'a', 'user', 'x', 'ws://a', 0), (2, 'b', 'user', 'x', 'ws://b', 0)",
  ).run()
  seedCapturedEvents(store)
  store.flush()
  rows = everyRow(db)
})

afterAll(() => {
  store.close()
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Every page of `query` from the newest back (beforeId), then forward from the start (afterId); each checked against the rows. */
function checkPages(query: Omit<EventQuery, 'beforeId' | 'afterId'>, maxPages = Infinity): number {
  const expected = rows.filter((r) => matches(r, query)).map((r) => r.id)
  const back: number[] = []
  let beforeId: number | undefined
  for (let page = 0; page < maxPages; page++) {
    const got = store.list({ ...query, ...(beforeId === undefined ? {} : { beforeId }) }).map((e) => e.id)
    expect(got).toEqual(expected.filter((id) => beforeId === undefined || id < beforeId).slice(0, query.limit))
    back.push(...got)
    if (got.length < query.limit) break
    beforeId = got.at(-1)!
  }
  if (maxPages === Infinity) expect(back).toEqual(expected)
  const ascending = [...expected].reverse()
  let afterId = 0
  for (let page = 0; page < Math.min(maxPages, 3); page++) {
    const got = store.list({ ...query, afterId }).map((e) => e.id)
    expect(got).toEqual(
      ascending
        .filter((id) => id > afterId)
        .slice(0, query.limit)
        .reverse(),
    )
    if (got.length < query.limit) break
    afterId = got[0]!
  }
  return expected.length
}

describe('live-log pages through indexes', () => {
  it('a rare address: rows pointing at its logs, its own rows and payloads with it as from or to, none sharing only its key', () => {
    const n = checkPages({ address: RARE, limit: 7 })
    // Pointing rows of two streams, own rows, pending from (checksummed), mined from and to.
    expect(n).toBeGreaterThan(100)
    expect(n).toBeLessThan(5_000)
    checkPages({ address: TWIN, limit: 10 })
    checkPages({ address: RARE, connectionId: 2, limit: 5 })
    checkPages({ address: RARE, streamIds: [4], limit: 4 })
    checkPages({ address: RARE, kind: 'mined_transaction', limit: 3 })
    checkPages({ address: RARE, fromBlock: 500, toBlock: 1_200, limit: 3 })
    expect(checkPages({ address: '0x000000000000000000000000000000000000dead', limit: 10 })).toBe(0)
  })

  it('a busy address walks ids and pages the same', () => {
    expect(checkPages({ address: BUSY, limit: 200 }, 5)).toBeGreaterThan(5_000)
    checkPages({ address: BUSY, streamIds: [2], limit: 50 }, 5)
  })

  it('an event: rare, sharing a key with another, absent, busy, several at once', () => {
    expect(checkPages({ selectors: [RARE_TOPIC], limit: 6 })).toBeGreaterThan(20)
    checkPages({ selectors: [TWIN_TOPIC], limit: 5 })
    checkPages({ selectors: [RARE_TOPIC, TWIN_TOPIC], connectionId: 1, limit: 9 })
    expect(checkPages({ selectors: [ABSENT_TOPIC], limit: 10 })).toBe(0)
    expect(checkPages({ selectors: [TRANSFER], limit: 100 }, 4)).toBeGreaterThan(4_000)
    checkPages({ selectors: [TRANSFER, RARE_TOPIC], kind: 'log', limit: 100 }, 4)
    checkPages({ selectors: [RARE_TOPIC], address: RARE, limit: 2 })
  })

  it('block ranges, few and many rows, combined with the other filters', () => {
    checkPages({ fromBlock: 40, toBlock: 60, limit: 8 })
    checkPages({ fromBlock: 0, toBlock: 1_500, limit: 100 }, 4)
    checkPages({ fromBlock: 300, toBlock: 900, address: RARE, limit: 3 })
    checkPages({ fromBlock: 300, toBlock: 900, selectors: [TRANSFER], streamIds: [1, 2], limit: 25 }, 4)
    checkPages({ fromBlock: 1_000, text: 'ddf252ad', limit: 30 }, 3)
  })

  it('any combination of filters pages as a walk of every row would', () => {
    const query = seededFilters()
    fc.assert(
      fc.property(query, fc.integer({ min: 1, max: 40 }), (q, limit) => {
        checkPages({ ...q, limit }, 3)
      }),
      { numRuns: 150 },
    )
  })
})

describe('migration 13', () => {
  it('applies on a store holding rows, whose pages then go through its indexes', () => {
    const file = path.join(dir, 'older.db')
    const older = openDatabase(file, { migrations: migrations.filter((m) => m.version <= 12) })
    older.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'a', 'user', 'x', 'ws://a', 0)").run()
    const before = new EventStore(older, { flushIntervalMs: 10_000 })
    for (let n = 1; n <= 50; n++) before.enqueueLog(1, 1, chainLog(n, 0, n % 10 === 0 ? RARE : BUSY, [n % 10 === 0 ? RARE_TOPIC : TRANSFER]), false)
    before.enqueue(1, 2, other('pending_transaction', 1, { from: RARE }))
    before.close()
    expect(
      applyMigrations(
        older,
        migrations.filter((m) => m.version <= 13),
      ),
    ).toEqual([13])
    const after = new EventStore(older, { flushIntervalMs: 10_000 })
    expect(after.list({ address: RARE, limit: 10 }).map((e) => e.blockNumber)).toEqual([null, 50, 40, 30, 20, 10])
    expect(after.list({ selectors: [RARE_TOPIC], limit: 10 }).map((e) => e.blockNumber)).toEqual([50, 40, 30, 20, 10])
    const indexes = older.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%substr%'").pluck().all()
    expect(indexes).toEqual(expect.arrayContaining(['chain_logs_by_topic0_address', 'events_by_address', 'events_by_topic0']))
    after.close()
    older.close()
  })
})
